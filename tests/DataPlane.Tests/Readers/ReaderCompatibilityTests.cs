using System.Text.Json;
using DataPlane.TestServices.Readers;
using Xunit;

namespace DataPlane.Tests.Readers;

/// <summary>
/// Every reader that runs here opens the tables of every Iceberg type that a pipeline and <c>dataplane table append</c>
/// wrote, and returns the values written (allowing each reader's documented type mappings). The default Parquet
/// profile must open in all of them; the compact one in those README lists (all but Parquet.Net). The manifests are
/// read by two independent Avro readers. One set of tables serves every reader.
/// </summary>
public sealed class ReaderCompatibilityTests(EveryTypeTables tables) : IClassFixture<EveryTypeTables>
{
    private IEnumerable<WrittenTable> DefaultProfile => tables.Tables.Where(t => !t.Compact);

    private void AssertSame(string reader, WrittenTable table, IReadOnlyList<JsonElement> rows, ReaderMappings mappings = ReaderMappings.None) =>
        CanonicalRows.AssertSame($"{reader} reading {table}", tables.Schema, tables.Expected, rows, mappings);

    [Fact]
    public void DuckDB_reads_every_value_of_both_profiles()
    {
        foreach (var table in tables.Tables)
            AssertSame("DuckDB", table, DotNetParquetReaders.DuckDb(table.DataFiles));
    }

    [Fact]
    public async Task ParquetSharp_reads_every_value_of_both_profiles()
    {
        foreach (var table in tables.Tables)
        {
            var rows = new List<JsonElement>();
            foreach (var file in table.DataFiles)
                rows.AddRange(await DotNetParquetReaders.ParquetSharpAsync(file));
            AssertSame("ParquetSharp", table, rows);
        }
    }

    [Fact]
    public async Task ParquetNet_reads_every_value_of_the_default_profile_and_cannot_read_the_compact_one()
    {
        foreach (var table in DefaultProfile)
        {
            var rows = new List<JsonElement>();
            foreach (var file in table.DataFiles)
                rows.AddRange(await DotNetParquetReaders.ParquetNetAsync(file, tables.Schema));
            AssertSame("Parquet.Net", table, rows, ReaderMappings.DecimalsAsDoubles);
        }
        // As README says: Parquet.Net 6.1 does not decode delta-packed dates and timestamps. (Should it learn to, the
        // README's list of compact-profile readers grows by one.)
        var compact = tables.Tables.First(t => t.Compact);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => DotNetParquetReaders.ParquetNetAsync(compact.DataFiles[0], tables.Schema));
        Assert.Contains("DELTA_BINARY_PACKED", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(JsParquetReaders.ParquetWasm)]
    [InlineData(JsParquetReaders.Polars)]
    [InlineData(JsParquetReaders.Hyparquet)]
    public async Task A_javascript_reader_reads_every_value_of_both_profiles(string reader)
    {
        var files = await JsParquetReaders.ReadAsync(reader, tables.Tables.SelectMany(t => t.DataFiles));
        // hyparquet hands out JavaScript values: decimals as numbers, dates and timestamps as Dates (milliseconds).
        var mappings = reader == JsParquetReaders.Hyparquet ? ReaderMappings.DecimalsAsDoubles | ReaderMappings.JsDates : ReaderMappings.None;
        foreach (var table in tables.Tables)
            AssertSame(reader, table, table.DataFiles.SelectMany(f => files[f]).ToList(), mappings);
    }

    [Fact]
    public async Task Icebird_reads_every_table_through_its_metadata()
    {
        using var http = new HttpFileServer(tables.Warehouse);
        var warehouse = new Uri(tables.Warehouse + "/").ToString();
        var read = await Icebird.ReadCanonicalAsync(tables.Tables.Select(t => (t.Location, Path.GetFileName(new Uri(t.MetadataLocation).LocalPath))), warehouse, http.BaseUri);
        foreach (var table in tables.Tables)
            // icebird decodes with hyparquet's defaults: JavaScript numbers and Dates, binary as UTF-8 text.
            AssertSame("icebird", table, read[table.Location.TrimEnd('/')], ReaderMappings.DecimalsAsDoubles | ReaderMappings.JsDates | ReaderMappings.BinaryAsText);
    }

    [Fact]
    public async Task Table_scan_prints_every_value_as_DuckDB_shows_it()
    {
        foreach (var table in tables.Tables.Where(t => t.Name.StartsWith("cli", StringComparison.Ordinal)))
        {
            var output = await tables.RunOkAsync("table", "scan", $"{EveryTypeTables.Namespace}.{table.Name}", "--data", tables.DataDirectory);
            var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
            int header = lines.FindIndex(l => l.StartsWith("id | ", StringComparison.Ordinal));
            var printed = lines.Skip(header + 1).Take(tables.Expected.Count).Select(l => l.Split(" | ")).ToList();

            using var duck = new DuckDB.NET.Data.DuckDBConnection("DataSource=:memory:");
            duck.Open();
            using var command = duck.CreateCommand();
            command.CommandText = "SET TimeZone = 'UTC'";
            command.ExecuteNonQuery();
            command.CommandText = $"SELECT COLUMNS(*)::VARCHAR FROM read_parquet([{string.Join(", ", table.DataFiles.Select(f => $"'{f}'"))}]) ORDER BY id";
            using var reader = command.ExecuteReader();
            int row = 0;
            while (reader.Read())
            {
                var duckdb = Enumerable.Range(0, reader.FieldCount).Select(c => reader.IsDBNull(c) ? "NULL" : reader.GetString(c)).ToArray();
                Assert.Equal(duckdb, printed[row++]);
            }
            Assert.Equal(tables.Expected.Count, row);
        }
    }

    [Fact]
    public async Task Python_avro_and_avro_c_read_the_same_manifests_naming_exactly_the_data_files_with_their_counts_and_sizes()
    {
        foreach (var table in tables.Tables)
        {
            var python = (await AvroReaders.PythonAsync([table.ManifestList]))[table.ManifestList];
            var avroC = await AvroReaders.AvroCatAsync(table.ManifestList);
            var manifests = python.Select(m => m.GetProperty("manifest_path").GetString()!).ToList();
            Assert.Equal(manifests, avroC.Select(m => m.GetProperty("manifest_path").GetString()!));
            Assert.Equal(python.Select(m => m.GetProperty("added_rows_count").GetInt64()), avroC.Select(m => m.GetProperty("added_rows_count").GetInt64()));

            var paths = manifests.Select(m => new Uri(m).LocalPath).ToList();
            var pythonEntries = (await AvroReaders.PythonAsync(paths)).SelectMany(m => m.Value).Select(DataFileOf).ToList();
            var avroCEntries = new List<(string, long, long, long)>();
            foreach (var path in paths)
                avroCEntries.AddRange((await AvroReaders.AvroCatAsync(path)).Select(DataFileOf));
            Assert.Equal(pythonEntries, avroCEntries);
            Assert.Equal(table.DataFiles, pythonEntries.Select(e => new Uri(e.Item1).LocalPath).Order(StringComparer.Ordinal));
            Assert.All(pythonEntries, e => Assert.Equal(new FileInfo(new Uri(e.Item1).LocalPath).Length, e.Item3));
            Assert.Equal(tables.Expected.Count, pythonEntries.Sum(e => e.Item2));
            // Every row of the id column is counted, none null.
            Assert.All(pythonEntries, e => Assert.Equal(0, e.Item4));
        }
    }

    /// <summary>A manifest entry's data file: path, record count, size, null count of the id column (field 1).</summary>
    private static (string, long, long, long) DataFileOf(JsonElement entry)
    {
        var file = entry.GetProperty("data_file");
        var nulls = file.GetProperty("null_value_counts");
        // avro-c writes a union's value inside an object naming its branch; python3-avro gives the value itself.
        if (nulls.ValueKind == JsonValueKind.Object && nulls.TryGetProperty("array", out var branch))
            nulls = branch;
        long idNulls = nulls.ValueKind == JsonValueKind.Array
            ? nulls.EnumerateArray().Single(kv => kv.GetProperty("key").GetInt32() == 1).GetProperty("value").GetInt64()
            : -1;
        return (file.GetProperty("file_path").GetString()!, file.GetProperty("record_count").GetInt64(), file.GetProperty("file_size_in_bytes").GetInt64(), idNulls);
    }
}
