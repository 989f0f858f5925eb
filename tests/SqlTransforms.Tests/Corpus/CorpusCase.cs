using System.Globalization;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Tests.Corpus;

/// <summary>
/// One golden case (a .sqltest file), in the style of Arroyo's sql-testing: sections start with a line "== name".
/// <c>== schema</c> the input's columns ("id BIGINT NOT NULL, tags VARCHAR[], s STRUCT(f INTEGER)"), <c>== input</c>
/// one JSON object per line (the source is called <c>input</c>), <c>== query</c> the SQL, then either
/// <c>== output</c> one row per line, values joined by " | " as DuckDB prints them cast to VARCHAR (rows compared in
/// any order unless <c>== ordered</c> is present), or <c>== error</c> the text the error must contain (with its
/// "line L, column C"). <c>== mode streaming</c> compiles as a pipeline would; <c>== dropped code=N</c> the rows
/// dropped per reason; <c>== duckdb skip: why</c> keeps a case out of the differential run.
/// </summary>
internal sealed record CorpusCase(string Name, string Schema, IReadOnlyList<string> Input, string Query, IReadOnlyList<string>? Output,
    string? Error, bool Ordered, SqlMode Mode, IReadOnlyList<string> Dropped, string? DuckDbSkip)
{
    public static CorpusCase Load(string path)
    {
        var sections = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        List<string>? current = null;
        foreach (var line in File.ReadAllLines(path))
        {
            if (line.StartsWith("== ", StringComparison.Ordinal))
            {
                var header = line[3..].Trim();
                int space = header.IndexOf(' ');
                string key = space < 0 ? header : header[..space];
                sections[key] = current = [];
                if (space >= 0) current.Add(header[(space + 1)..].Trim());
                continue;
            }
            current?.Add(line);
        }
        string Text(string key) => sections.TryGetValue(key, out var v) ? string.Join('\n', v).Trim() : "";
        List<string> Lines(string key) => sections.TryGetValue(key, out var v) ? v.Where(l => l.Trim().Length > 0).ToList() : [];
        return new CorpusCase(Path.GetFileNameWithoutExtension(path), Text("schema"), Lines("input"), Text("query"),
            sections.ContainsKey("output") ? Lines("output") : null, sections.ContainsKey("error") ? Text("error") : null,
            sections.ContainsKey("ordered"), Text("mode") == "streaming" ? SqlMode.Streaming : SqlMode.Bounded,
            Lines("dropped"), sections.ContainsKey("duckdb") ? Text("duckdb") : null);
    }

    public IReadOnlyList<(string Name, SqlType Type, bool Nullable)> Columns() => SchemaText.Parse(Schema);

    public Schema ArrowSchema() => new(Columns().Select(c => ArrowTypes.Field(c.Name, c.Type, c.Nullable)), null);

    public RecordBatch InputBatch()
    {
        var columns = Columns();
        var values = columns.Select(_ => new List<object?>()).ToArray();
        foreach (var line in Input)
        {
            using var json = JsonDocument.Parse(line);
            for (int c = 0; c < columns.Count; c++)
                values[c].Add(json.RootElement.TryGetProperty(columns[c].Name, out var v) ? FromJson(v, columns[c].Type) : null);
        }
        var arrays = columns.Select((c, i) => ValueArrays.FromValues(c.Type, values[i])).ToArray();
        return new RecordBatch(ArrowSchema(), arrays, Input.Count);
    }

    private static object? FromJson(JsonElement v, SqlType type)
    {
        if (v.ValueKind == JsonValueKind.Null) return null;
        switch (type.Kind)
        {
            case SqlTypeKind.Boolean: return v.GetBoolean();
            case SqlTypeKind.Integer: return v.GetInt32();
            case SqlTypeKind.BigInt: return v.GetInt64();
            case SqlTypeKind.Real: return v.ValueKind == JsonValueKind.String ? float.Parse(v.GetString()!, CultureInfo.InvariantCulture) : v.GetSingle();
            case SqlTypeKind.Double: return v.ValueKind == JsonValueKind.String ? ValueText.TryParseDouble(v.GetString()!, out var d) ? d : throw new FormatException(v.GetString()) : v.GetDouble();
            case SqlTypeKind.Decimal: return ValueText.TryParseDecimal(v.GetRawText().Trim('"'), type.Precision, type.Scale, out var u) ? u : throw new FormatException(v.GetRawText());
            case SqlTypeKind.Date: return ValueText.TryParseDate(v.GetString()!, out int days) ? days : throw new FormatException(v.GetString());
            case SqlTypeKind.Time: return ValueText.TryParseTime(v.GetString()!, out long t) ? t : throw new FormatException(v.GetString());
            case SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz: return ValueText.TryParseTimestamp(v.GetString()!, out long ts) ? ts : throw new FormatException(v.GetString());
            case SqlTypeKind.Varchar: return v.GetString();
            case SqlTypeKind.Blob: return Encoding.UTF8.GetBytes(v.GetString()!);
            case SqlTypeKind.List: return v.EnumerateArray().Select(e => FromJson(e, type.Element!)).ToArray();
            case SqlTypeKind.Struct: return type.Fields!.Select(f => v.TryGetProperty(f.Name, out var x) ? FromJson(x, f.Type) : null).ToArray();
        }
        throw new NotSupportedException(type.ToString());
    }
}
