using System.Diagnostics;
using System.Globalization;
using Apache.Arrow;
using DuckDB.NET.Data;
using Parquet;
using Parquet.Schema;
using ParquetSharp;

namespace DataPlane.Benchmarks.TableFormat;

/// <summary>
/// Load driver: writes the same rows (long, string, double, timestamptz) to Parquet with zstd through each candidate
/// writer and through DuckDB's <c>COPY ... TO</c> (the baseline), each in its own child process so that the peak
/// working set is that writer's alone, then prints time and size ratios against DuckDB and checks with DuckDB that
/// every file holds the same rows. The <c>-bucket</c> variants write the rows partitioned into <see cref="Buckets"/>
/// buckets of id, so neighbouring rows land in different partitions: DataPlane's partitioned table writer against
/// DuckDB's <c>COPY ... (PARTITION_BY ...)</c> over a hash bucket column computed in the same statement.
/// Run: <c>dotnet run -c Release --project bench -- table-format [--rows 10000000] [--variants duckdb,parquetsharp,...]</c>.
/// </summary>
internal static class ParquetWriteLoad
{
    private static readonly string[] AllVariants =
        ["duckdb", "dataplane", "duckdb-v2", "dataplane-compact", "parquetsharp", "parquetsharp-defaults", "parquetnet", PartitionedBaseline, "dataplane-bucket"];

    private const string PartitionedBaseline = "duckdb-bucket";
    private const int Buckets = 16;

    public static async Task<int> RunAsync(string[] args)
    {
        long rows = long.Parse(Option(args, "--rows") ?? "10000000", CultureInfo.InvariantCulture);
        string? variant = Option(args, "--variant");
        string dir = Option(args, "--dir") ?? Path.Combine(Path.GetTempPath(), "dataplane-bench-table-format");
        if (variant is not null)
            return await RunOneAsync(variant, rows, dir);

        Directory.CreateDirectory(dir);
        var variants = (Option(args, "--variants") ?? string.Join(',', AllVariants)).Split(',');
        var results = new List<Result>();
        foreach (var v in variants)
            results.Add(RunChild(v, rows, dir));
        Print(rows, results);
        if (args.Contains("--columns"))
            foreach (var v in variants.Where(v => !Partitioned(v)))
                PrintColumns(FileOf(dir, v));
        Directory.Delete(dir, recursive: true);
        return 0;
    }

    private sealed record Result(string Variant, double Seconds, long Bytes, long PeakWorkingSet, long WorkingSetBefore, string Check)
    {
        /// <summary>DuckDB with the matching settings: its defaults for DataPlane's default profile, PARQUET_VERSION V2
        /// (delta and byte-stream-split encodings) for the compact one.</summary>
        public string Baseline => Partitioned(Variant) ? PartitionedBaseline : Variant is "dataplane-compact" or "duckdb-v2" ? "duckdb-v2" : "duckdb";
    }

    private static bool Partitioned(string variant) => variant.EndsWith("-bucket", StringComparison.Ordinal);

    private static Result RunChild(string variant, long rows, string dir)
    {
        var self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            psi.ArgumentList.Add(typeof(ParquetWriteLoad).Assembly.Location);
        foreach (var a in new[] { "table-format", "--variant", variant, "--rows", rows.ToString(CultureInfo.InvariantCulture), "--dir", dir })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"variant {variant} failed (exit {p.ExitCode}): {output}");
        var f = line.Split(' ');
        return new Result(variant, double.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[2], CultureInfo.InvariantCulture),
            long.Parse(f[3], CultureInfo.InvariantCulture), long.Parse(f[4], CultureInfo.InvariantCulture), Check(FilesOf(dir, variant)));
    }

    private static string FileOf(string dir, string variant) => Path.Combine(dir, variant + ".parquet");

    /// <summary>The output of a partitioned variant is a folder of partition folders.</summary>
    private static string FolderOf(string dir, string variant) => Path.Combine(dir, variant);

    private static string FilesOf(string dir, string variant) =>
        Partitioned(variant) ? Path.Combine(FolderOf(dir, variant), "**", "*.parquet") : FileOf(dir, variant);

    private static long BytesOf(string dir, string variant) => Partitioned(variant)
        ? Directory.EnumerateFiles(FolderOf(dir, variant), "*.parquet", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length)
        : new FileInfo(FileOf(dir, variant)).Length;

    private static async Task<int> RunOneAsync(string variant, long rows, string dir)
    {
        string file = FileOf(dir, variant);
        File.Delete(file);
        if (Directory.Exists(FolderOf(dir, variant)))
            Directory.Delete(FolderOf(dir, variant), recursive: true);
        Func<Task> write;
        if (variant == PartitionedBaseline)
        {
            var connection = new DuckDBConnection("DataSource=:memory:");
            connection.Open();
            Execute(connection, "SET TimeZone = 'UTC'");
            Execute(connection, "CREATE TABLE t AS " + BenchRows.DuckDbSelect(rows));
            // The bucket is computed in the timed statement, as DataPlane computes bucket[16] while writing.
            write = () =>
            {
                Execute(connection, $"COPY (SELECT *, hash(id) % {Buckets} AS id_bucket FROM t) TO '{FolderOf(dir, variant)}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (id_bucket))");
                return Task.CompletedTask;
            };
        }
        else if (variant is "duckdb" or "duckdb-v2")
        {
            var connection = new DuckDBConnection("DataSource=:memory:");
            connection.Open();
            Execute(connection, "SET TimeZone = 'UTC'");
            Execute(connection, "CREATE TABLE t AS " + BenchRows.DuckDbSelect(rows));
            // zstd at DuckDB's default level (3), DataPlane's default too.
            var version = variant == "duckdb-v2" ? ", PARQUET_VERSION V2" : "";
            write = () => { Execute(connection, $"COPY t TO '{file}' (FORMAT parquet, COMPRESSION zstd{version})"); return Task.CompletedTask; };
        }
        else
        {
            var batches = BenchRows.Generate(rows);
            write = variant switch
            {
                "dataplane" => () => WriteDataPlaneAsync(batches, dir, file, Iceberg.DataFiles.ParquetProfile.Default),
                "dataplane-compact" => () => WriteDataPlaneAsync(batches, dir, file, Iceberg.DataFiles.ParquetProfile.Compact),
                "dataplane-bucket" => () => WriteDataPlanePartitionedAsync(batches, FolderOf(dir, variant)),
                "parquetsharp-defaults" => () => Synchronously(() => WriteParquetSharp(batches, file, tuned: false)),
                "parquetsharp" => () => Synchronously(() => WriteParquetSharp(batches, file, tuned: true)),
                "parquetnet" => () => WriteParquetNetAsync(batches, file),
                _ => throw new ArgumentException($"unknown variant '{variant}'; valid: {string.Join(", ", AllVariants)}"),
            };
        }
        GC.Collect();
        using var self = Process.GetCurrentProcess();
        long before = self.WorkingSet64;
        var sw = Stopwatch.StartNew();
        await write();
        sw.Stop();
        self.Refresh();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT {sw.Elapsed.TotalSeconds:F3} {BytesOf(dir, variant)} {self.PeakWorkingSet64} {before}"));
        return 0;
    }

    /// <summary>ParquetSharp (Arrow C++) writing the Arrow batches directly: with its defaults, or with the column
    /// encodings chosen for DataPlane's data files (delta for integers, byte-stream-split for floating point, zstd level 3).</summary>
    private static void WriteParquetSharp(List<RecordBatch> batches, string file, bool tuned)
    {
        var builder = new WriterPropertiesBuilder().Compression(Compression.Zstd);
        if (tuned)
        {
            builder.CompressionLevel(3);
            foreach (var (column, encoding) in new[] { ("id", Encoding.DeltaBinaryPacked), ("value", Encoding.ByteStreamSplit), ("ts", Encoding.DeltaBinaryPacked) })
                builder.DisableDictionary(column).Encoding(column, encoding);
        }
        using var properties = builder.Build();
        using var arrowProperties = new ParquetSharp.Arrow.ArrowWriterPropertiesBuilder().Build();
        using var writer = new ParquetSharp.Arrow.FileWriter(file, BenchRows.Schema, properties, arrowProperties);
        foreach (var batch in batches)
            writer.WriteBufferedRecordBatch(batch);
        writer.Close();
    }

    /// <summary>DataPlane's data file writer in one of its profiles: conformed batches, column metrics, streamed to the local folder store.</summary>
    private static async Task WriteDataPlaneAsync(List<RecordBatch> batches, string dir, string file, Iceberg.DataFiles.ParquetProfile profile)
    {
        using var store = DataPlane.Storage.ObjectStore.Open(Path.Combine(dir, "store"));
        var schema = Iceberg.DataFiles.ArrowSchemaMapping.ToIceberg(BenchRows.Schema);
        await using var writer = new Iceberg.DataFiles.DataFileWriter(store, "data", schema,
            new Iceberg.DataFiles.DataFileWriterOptions { TargetFileSizeBytes = long.MaxValue, Profile = profile });
        foreach (var batch in batches)
            await writer.WriteAsync(batch);
        var written = Assert(await writer.CompleteAsync());
        File.Move(Path.Combine(dir, "store", written.Key), file);
    }

    /// <summary>DataPlane's partitioned table writer, bucket[16](id), into a table on the local folder store.</summary>
    private static async Task WriteDataPlanePartitionedAsync(List<RecordBatch> batches, string folder)
    {
        using var store = DataPlane.Storage.ObjectStore.Open(folder);
        var schema = Iceberg.DataFiles.ArrowSchemaMapping.ToIceberg(BenchRows.Schema);
        var committer = new Iceberg.Operations.FileTableCommitter(store, "table");
        var spec = Iceberg.Partitioning.PartitionSpec.BuilderFor(schema).Bucket("id", Buckets).Build();
        var table = await Iceberg.Operations.Table.CreateAsync(store, committer, committer.TableLocation, schema, spec);
        await using var writer = new Iceberg.DataFiles.TableDataWriter(table, new Iceberg.DataFiles.DataFileWriterOptions { TargetFileSizeBytes = long.MaxValue });
        foreach (var batch in batches)
            await writer.WriteAsync(batch);
        var files = await writer.CompleteAsync();
        if (files.Count != Buckets)
            throw new InvalidOperationException($"expected {Buckets} files, one per bucket, got {files.Count}");
    }

    private static Iceberg.DataFiles.WrittenDataFile Assert(IReadOnlyList<Iceberg.DataFiles.WrittenDataFile> files) =>
        files.Count == 1 ? files[0] : throw new InvalidOperationException($"expected one file, got {files.Count}");

    private static async Task WriteParquetNetAsync(List<RecordBatch> batches, string file)
    {
        var id = new DataField<long>("id") { FieldId = 1 };
        var name = new DataField<string>("name") { FieldId = 2 };
        var value = new DataField<double?>("value") { FieldId = 3 };
        var ts = new DateTimeDataField("ts", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros) { FieldId = 4 };
        var schema = new ParquetSchema(id, name, value, ts);
        var options = new ParquetOptions { CompressionMethod = CompressionMethod.Zstd, CompressionLevel = System.IO.Compression.CompressionLevel.Fastest };
        await using var stream = File.Create(file);
        await using var writer = await ParquetWriter.CreateAsync(schema, stream, options);
        foreach (var batch in batches)
        {
            // Parquet.Net takes .NET arrays: strings and DateTimes are materialized per row, which is part of its cost.
            var names = new string[batch.Length];
            var nameArray = (StringArray)batch.Column(1);
            for (int i = 0; i < names.Length; i++)
                names[i] = nameArray.GetString(i);
            var times = new DateTime[batch.Length];
            var tsValues = ((TimestampArray)batch.Column(3)).Values;
            for (int i = 0; i < times.Length; i++)
                times[i] = DateTime.UnixEpoch.AddTicks(tsValues[i] * 10);
            var values = new double?[batch.Length];
            var valueSpan = ((DoubleArray)batch.Column(2)).Values;
            for (int i = 0; i < values.Length; i++)
                values[i] = valueSpan[i];
            using var rowGroup = writer.CreateRowGroup();
            await rowGroup.WriteAsync<long>(id, (ReadOnlyMemory<long>)((Int64Array)batch.Column(0)).Values.ToArray());
            await rowGroup.WriteAsync(name, names);
            await rowGroup.WriteAsync<double>(value, (ReadOnlyMemory<double?>)values);
            await rowGroup.WriteAsync<DateTime>(ts, (ReadOnlyMemory<DateTime>)times);
        }
    }

    private static string Check(string file)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        Execute(connection, "SET TimeZone = 'UTC'");
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*), sum(id), sum(round(value * 100)::BIGINT), min(ts)::VARCHAR, max(ts)::VARCHAR, sum(hash(name)), sum(epoch_us(ts)) FROM read_parquet('{file}')";
        using var reader = command.ExecuteReader();
        reader.Read();
        return string.Join('|', Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)));
    }

    private static void Print(long rows, List<Result> results)
    {
        Console.WriteLine($"Parquet write, {rows:N0} rows (long, string, double, timestamptz), zstd; baseline DuckDB COPY TO in the same run" +
            $" (dataplane-compact against duckdb-v2, PARQUET_VERSION V2; -bucket: partitioned into {Buckets} buckets of id, baseline DuckDB COPY ... PARTITION_BY); load average {LoadAverage()}");
        Console.WriteLine($"{"writer",-22} {"baseline",-14} {"time s",8} {"time/base",10} {"size MB",9} {"size/base",10} {"peak WS MB",11} {"WS before MB",13}  same rows as baseline");
        foreach (var r in results)
        {
            var baseline = results.FirstOrDefault(b => b.Variant == r.Baseline);
            string timeRatio = baseline is null ? "-" : (r.Seconds / baseline.Seconds).ToString("F2", CultureInfo.InvariantCulture);
            string sizeRatio = baseline is null ? "-" : ((double)r.Bytes / baseline.Bytes).ToString("F3", CultureInfo.InvariantCulture);
            string same = baseline is null ? "-" : (r.Check == baseline.Check ? "yes" : "NO: " + r.Check);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Variant,-22} {r.Baseline,-14} {r.Seconds,8:F2} {timeRatio,10} {r.Bytes / 1e6,9:F1} {sizeRatio,10} {r.PeakWorkingSet / 1e6,11:F0} {r.WorkingSetBefore / 1e6,13:F0}  {same}"));
        }
        foreach (var baseline in results.Where(r => r.Variant == r.Baseline))
            Console.WriteLine($"{baseline.Variant} check: {baseline.Check}");
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static void PrintColumns(string file)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT path_in_schema, sum(total_compressed_size), count(*), string_agg(DISTINCT encodings), any_value(compression), sum(total_uncompressed_size), any_value(data_page_offset - coalesce(dictionary_page_offset, data_page_offset)) FROM parquet_metadata('{file}') GROUP BY ALL ORDER BY 1";
        using var reader = command.ExecuteReader();
        Console.WriteLine(Path.GetFileName(file));
        while (reader.Read())
            Console.WriteLine($"  {reader.GetValue(0),-8} {reader.GetValue(1),12} bytes in {reader.GetValue(2)} row groups, {reader.GetValue(3)} {reader.GetValue(4)} uncompressed {reader.GetValue(5)} dict {reader.GetValue(6)}");
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string? Option(string[] args, string name)
    {
        int i = System.Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>A synchronous writer as a variant (it runs on the calling thread, as the asynchronous ones start).</summary>
    private static Task Synchronously(Action write)
    {
        write();
        return Task.CompletedTask;
    }
}
