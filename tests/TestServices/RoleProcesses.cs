using System.Globalization;
using DataPlane.Storage;

namespace DataPlane.TestServices;

/// <summary>
/// The separate <c>dataplane serve</c> processes of one scaled-out deployment (README "Roles"): one <c>catalog</c> process
/// and any number of <c>ingest</c> and <c>worker</c> processes naming it with <c>--catalog</c>, each a
/// <see cref="DataPlaneProcess"/> on a free port with its own <c>--data</c> under <paramref name="workingDirectory"/>. The
/// catalog process and the workers share one warehouse: a folder of the catalog's, or, given an S3 server and a bucket, a
/// prefix in the bucket, reached with the server's endpoint and keys. Disposing kills every process still running.
/// </summary>
public sealed class RoleProcesses(string workingDirectory, S3Server? s3 = null, string? bucket = null) : IAsyncDisposable
{
    private readonly List<DataPlaneProcess> _processes = [];
    private DataPlaneProcess? _catalog;

    /// <summary>The folder that holds each process's <c>--data</c> (and a folder warehouse).</summary>
    public string WorkingDirectory => workingDirectory;

    /// <summary>The tables' storage: <c>s3://BUCKET/warehouse</c>, or the folder <c>catalog/warehouse</c> of the working directory.</summary>
    public string Warehouse { get; } = s3 is null
        ? Path.Combine(workingDirectory, "catalog", "warehouse")
        : $"s3://{bucket ?? throw new ArgumentNullException(nameof(bucket), "An S3 warehouse needs a bucket.")}/warehouse";

    /// <summary>How readers reach an S3 warehouse's files (the server's endpoint and keys); null for a folder.</summary>
    public S3Options? S3 { get; } = s3 is null ? null
        : new S3Options { Endpoint = s3.Endpoint, AccessKey = s3.AccessKey, SecretKey = s3.SecretKey, Region = s3.Region };

    /// <summary>The catalog process, once <see cref="StartCatalogAsync"/> has started it.</summary>
    public DataPlaneProcess Catalog => _catalog ?? throw new InvalidOperationException("Start the catalog process first.");

    /// <summary><c>serve --role catalog --data catalog</c>, which owns the definitions and the warehouse.</summary>
    public async Task<DataPlaneProcess> StartCatalogAsync() =>
        _catalog = await StartAsync("catalog", "catalog", withWarehouse: true);

    /// <summary><c>serve --role worker --data DATA --catalog ...</c> with the catalog process's warehouse and S3 settings.</summary>
    public Task<DataPlaneProcess> StartWorkerAsync(string data) => StartAsync("worker", data, withWarehouse: true);

    /// <summary><c>serve --role ingest --data DATA --catalog ...</c>, which writes no table.</summary>
    public Task<DataPlaneProcess> StartIngestAsync(string data) => StartAsync("ingest", data, withWarehouse: false);

    private async Task<DataPlaneProcess> StartAsync(string role, string data, bool withWarehouse)
    {
        var port = DataPlaneProcess.FreePort();
        List<string> args = ["serve", "--role", role, "--port", port.ToString(CultureInfo.InvariantCulture), "--data", data];
        if (role != "catalog")
            args.AddRange(["--catalog", Catalog.BaseAddress.ToString()]);
        var environment = new Dictionary<string, string>();
        if (withWarehouse)
        {
            args.AddRange(["--warehouse", Warehouse]);
            if (S3 is not null)
            {
                environment["DATAPLANE_S3__ENDPOINT"] = S3.Endpoint!;
                environment["DATAPLANE_S3__ACCESSKEY"] = S3.AccessKey!;
                environment["DATAPLANE_S3__SECRETKEY"] = S3.SecretKey!;
                environment["DATAPLANE_S3__REGION"] = S3.Region;
            }
        }
        var process = await DataPlaneProcess.StartServerAsync(workingDirectory, port, args, environment);
        lock (_processes)
            _processes.Add(process);
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        List<DataPlaneProcess> processes;
        lock (_processes)
            processes = [.. _processes];
        foreach (var process in processes)
            await process.DisposeAsync();
    }
}
