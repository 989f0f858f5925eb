using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using DataPlane.Database.Log;
using SQLitePCL;

namespace DataPlane.Database.Execution;

/// <summary>
/// A SHA-256 over the schema and every row of every user table, in a canonical order, read in one
/// transaction together with the log position it describes. Equal hashes at equal positions mean equal copies.
/// </summary>
internal static class ContentHash
{
    public static string Compute(SqliteLink link) => Compute(link, out _);

    public static string Compute(SqliteLink link, out long position)
    {
        link.Exec("BEGIN");
        bool was = link.Guard.Internal;
        link.Guard.Internal = true;
        try
        {
            position = LogApplier.ReadPosition(link);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var tables = new List<string>();
            Each(link, $"SELECT type, name, coalesce(sql, '') FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' AND name <> '{LogApplier.MetaTable}' ORDER BY type, name", stmt =>
            {
                for (int i = 0; i < 3; i++) AddText(hash, raw.sqlite3_column_text(stmt, i).utf8_to_string());
                if (raw.sqlite3_column_text(stmt, 0).utf8_to_string() == "table") tables.Add(raw.sqlite3_column_text(stmt, 1).utf8_to_string()!);
            });
            foreach (var table in tables)
            {
                string quoted = "\"" + table.Replace("\"", "\"\"") + "\"";
                int columns = 0;
                Each(link, $"SELECT count(*) FROM pragma_table_info('{table.Replace("'", "''")}')", stmt => columns = raw.sqlite3_column_int(stmt, 0));
                string order = string.Join(", ", Enumerable.Range(1, Math.Max(columns, 1)));
                Each(link, $"SELECT * FROM {quoted} ORDER BY {order}", stmt =>
                {
                    for (int i = 0; i < columns; i++) AddValue(hash, stmt, i);
                });
            }
            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        finally
        {
            link.Guard.Internal = was;
            link.Exec("COMMIT");
        }
    }

    private static void Each(SqliteLink link, string sql, Action<sqlite3_stmt> row)
    {
        int rc = raw.sqlite3_prepare_v2(link.Handle, sql, out var stmt);
        if (rc != 0) throw new InvalidOperationException($"SQLite error {rc} preparing '{sql}': {raw.sqlite3_errmsg(link.Handle).utf8_to_string()}");
        using (stmt)
        {
            while ((rc = raw.sqlite3_step(stmt)) == raw.SQLITE_ROW) row(stmt);
            if (rc != raw.SQLITE_DONE) throw new InvalidOperationException($"SQLite error {rc} running '{sql}'.");
        }
    }

    private static void AddText(IncrementalHash hash, string? text)
    {
        var bytes = Encoding.UTF8.GetBytes(text ?? "");
        AddLength(hash, bytes.Length);
        hash.AppendData(bytes);
    }

    private static void AddLength(IncrementalHash hash, long value)
    {
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(buffer, value);
        hash.AppendData(buffer);
    }

    private static void AddValue(IncrementalHash hash, sqlite3_stmt stmt, int i)
    {
        int type = raw.sqlite3_column_type(stmt, i);
        hash.AppendData([(byte)type]);
        switch (type)
        {
            case raw.SQLITE_INTEGER: AddLength(hash, raw.sqlite3_column_int64(stmt, i)); break;
            case raw.SQLITE_FLOAT: AddLength(hash, BitConverter.DoubleToInt64Bits(raw.sqlite3_column_double(stmt, i))); break;
            case raw.SQLITE_TEXT: AddText(hash, raw.sqlite3_column_text(stmt, i).utf8_to_string()); break;
            case raw.SQLITE_BLOB:
                var blob = raw.sqlite3_column_blob(stmt, i);
                AddLength(hash, blob.Length);
                hash.AppendData(blob);
                break;
        }
    }
}
