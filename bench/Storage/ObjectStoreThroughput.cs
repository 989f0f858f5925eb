using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using DataPlane.Storage;
using DataPlane.TestServices;

namespace DataPlane.Benchmarks.Storage;

/// <summary>
/// Put and get throughput of whole objects: the local folder store (the baseline), the S3 store against a real S3
/// server (s3rver here, or DATAPLANE_TEST_S3_ENDPOINT / MinIO in Docker, as the test fixture resolves it), and raw
/// FileStream I/O as the floor under the local store. The MiB/s column is object size over mean time.
/// Run: <c>dotnet run -c Release --project bench -- --filter '*ObjectStoreThroughput*'</c>.
/// </summary>
[Config(typeof(Config))]
public class ObjectStoreThroughput
{
    private const int MiB = 1024 * 1024;

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            // In process: s3rver is started once per case in GlobalSetup and the object sizes dwarf any harness noise.
            AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
            AddDiagnoser(MemoryDiagnoser.Default);
            AddColumn(new ThroughputColumn());
            AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams);
        }
    }

    [Params(1, 16)]
    public int SizeMiB { get; set; }

    private byte[] _data = [];
    private readonly byte[] _readBuffer = new byte[1 << 20];
    private string _directory = "";
    private IObjectStore? _local;
    private IObjectStore? _s3;
    private S3Server? _server;

    [GlobalSetup(Targets = [nameof(RawFileWrite), nameof(RawFileRead), nameof(LocalPut), nameof(LocalGet)])]
    public async Task SetupLocalAsync()
    {
        Prepare();
        _local = ObjectStore.Open(Path.Combine(_directory, "warehouse"));
        await _local.PutAsync("read.bin", new MemoryStream(_data));
        await File.WriteAllBytesAsync(Path.Combine(_directory, "raw-read.bin"), _data);
    }

    [GlobalSetup(Targets = [nameof(S3Put), nameof(S3Get)])]
    public async Task SetupS3Async()
    {
        Prepare();
        _server = await S3Server.ResolveAsync();
        var bucket = await _server.CreateBucketAsync("bench");
        _s3 = ObjectStore.Open($"s3://{bucket}/warehouse", new S3Options
        {
            Endpoint = _server.Endpoint, AccessKey = _server.AccessKey, SecretKey = _server.SecretKey, Region = _server.Region,
        });
        await _s3.PutAsync("read.bin", new MemoryStream(_data));
    }

    private void Prepare()
    {
        _data = new byte[SizeMiB * MiB];
        new Random(42).NextBytes(_data);
        _directory = Path.Combine(Path.GetTempPath(), "dataplane-bench-storage", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _local?.Dispose();
        _s3?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark, BenchmarkCategory("Put")]
    public void RawFileWrite()
    {
        // The floor: the same bytes written and flushed to disk, without temp file, rename or sidecar.
        using var file = new FileStream(Path.Combine(_directory, "raw-write.bin"), FileMode.Create, FileAccess.Write, FileShare.None, 0);
        file.Write(_data);
        file.Flush(flushToDisk: true);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Put")]
    public Task<ObjectInfo> LocalPut() => _local!.PutAsync("write.bin", new MemoryStream(_data, writable: false));

    [Benchmark, BenchmarkCategory("Put")]
    public Task<ObjectInfo> S3Put() => _s3!.PutAsync("write.bin", new MemoryStream(_data, writable: false));

    [Benchmark, BenchmarkCategory("Get")]
    public long RawFileRead()
    {
        using var file = new FileStream(Path.Combine(_directory, "raw-read.bin"), FileMode.Open, FileAccess.Read, FileShare.Read, 0);
        return Drain(file);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Get")]
    public async Task<long> LocalGet()
    {
        await using var stream = await _local!.GetAsync("read.bin");
        return await DrainAsync(stream);
    }

    [Benchmark, BenchmarkCategory("Get")]
    public async Task<long> S3Get()
    {
        await using var stream = await _s3!.GetAsync("read.bin");
        return await DrainAsync(stream);
    }

    private long Drain(Stream stream)
    {
        long total = 0;
        int n;
        while ((n = stream.Read(_readBuffer)) > 0) total += n;
        return total;
    }

    private async Task<long> DrainAsync(Stream stream)
    {
        long total = 0;
        int n;
        while ((n = await stream.ReadAsync(_readBuffer)) > 0) total += n;
        return total;
    }
}
