using System.CommandLine;
using DataPlane.Catalog.RestClient;

namespace DataPlane.Commands;

/// <summary>
/// <c>dataplane namespace list|create|show|drop</c> against a running catalog (<c>dataplane serve</c> or any Iceberg
/// REST catalog). Namespaces are written dotted: <c>accounting.tax</c>.
/// </summary>
internal static class NamespaceCommand
{
    public static Command Create()
    {
        var catalog = new Option<string>("--catalog")
        {
            Description = $"Catalog URI (default: {TableCatalog.ServerVariable}/iceberg, else http://127.0.0.1:8181/iceberg)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(TableCatalog.ServerVariable) is { Length: > 0 } server
                ? TableCatalog.CatalogUri(server, TableCatalog.ServerVariable).ToString()
                : "http://127.0.0.1:8181/iceberg",
        };
        var token = new Option<string?>("--token") { Description = $"Bearer token (default: {TableCatalog.TokenVariable})" };
        var credential = new Option<string?>("--credential") { Description = "OAuth2 client credentials as id:secret" };
        var name = new Argument<string>("namespace") { Description = "Dotted namespace, e.g. accounting.tax" };
        var parent = new Argument<string?>("parent") { Description = "List children of this namespace", Arity = ArgumentArity.ZeroOrOne };
        var property = new Option<string[]>("--property") { Description = "key=value (repeatable)", AllowMultipleArgumentsPerToken = true };

        var list = new Command("list", "List namespaces (top level, or children of a parent).") { parent };
        list.SetAction((r, ct) => Run(r, catalog, token, credential, async c =>
        {
            var p = r.GetValue(parent);
            foreach (var ns in await c.ListNamespacesAsync(p is null ? null : Split(p), ct))
                Console.WriteLine(string.Join('.', ns));
        }, ct));
        var create = new Command("create", "Create a namespace.") { name, property };
        create.SetAction((r, ct) => Run(r, catalog, token, credential, async c =>
        {
            var properties = (r.GetValue(property) ?? []).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "");
            await c.CreateNamespaceAsync(Split(r.GetValue(name)!), properties, ct);
            Console.WriteLine($"created {r.GetValue(name)}");
        }, ct));
        var show = new Command("show", "Show a namespace's properties and tables.") { name };
        show.SetAction((r, ct) => Run(r, catalog, token, credential, async c =>
        {
            var ns = Split(r.GetValue(name)!);
            foreach (var (k, v) in await c.LoadNamespaceAsync(ns, ct)) Console.WriteLine($"{k}={v}");
            foreach (var t in await c.ListTablesAsync(ns, ct)) Console.WriteLine($"table {t}");
        }, ct));
        var drop = new Command("drop", "Drop an empty namespace.") { name };
        drop.SetAction((r, ct) => Run(r, catalog, token, credential, async c =>
        {
            await c.DropNamespaceAsync(Split(r.GetValue(name)!), ct);
            Console.WriteLine($"dropped {r.GetValue(name)}");
        }, ct));

        var command = new Command("namespace", "Manage namespaces of an Iceberg REST catalog.") { list, create, show, drop };
        foreach (var sub in command.Subcommands) { sub.Options.Add(catalog); sub.Options.Add(token); sub.Options.Add(credential); }
        return command;
    }

    private static string[] Split(string dotted) => dotted.Split('.');

    private static async Task<int> Run(ParseResult r, Option<string> catalog, Option<string?> token, Option<string?> credential, Func<IcebergRestClient, Task> action, CancellationToken ct)
    {
        try
        {
            using var client = new IcebergRestClient(new Uri(r.GetValue(catalog)!),
                token: r.GetValue(token) ?? Environment.GetEnvironmentVariable(TableCatalog.TokenVariable), credential: r.GetValue(credential));
            await client.InitializeAsync(ct);
            await action(client);
            return 0;
        }
        catch (RestCatalogException e)
        {
            Console.Error.WriteLine($"dataplane namespace: {e.Type}: {e.ServerMessage}");
            return 1;
        }
        catch (Exception e) when (e is HttpRequestException or ArgumentException)
        {
            Console.Error.WriteLine($"dataplane namespace: {e.Message}");
            return 1;
        }
    }
}
