namespace DataPlane.Hosting;

/// <summary>
/// One area's part of <c>GET /metrics</c>: Prometheus text families that no other area uses. Areas are
/// registered in DI, so one more area adds its section without touching the endpoint.
/// </summary>
internal sealed record MetricsSection(string Area, Func<IServiceProvider, TextWriter, CancellationToken, Task> WriteAsync);
