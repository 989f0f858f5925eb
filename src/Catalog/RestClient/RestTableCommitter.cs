using System.Text.Json.Nodes;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;

namespace DataPlane.Catalog.RestClient;

/// <summary>
/// A table of any Iceberg REST catalog for the table library: loads through <c>GET .../tables/{name}</c> and commits
/// through <c>POST .../tables/{name}</c> with <c>assert-table-uuid</c> and <c>assert-ref-snapshot-id</c> for every
/// branch or tag it moves, so a lost race comes back as <see cref="CommitFailedException"/> and the library retries.
/// It sends the table library's own updates with the requirements they rest on (<see cref="TableRequirement.For"/>).
/// Tables are created with <see cref="IcebergRestClient.CreateTableAsync"/>.
/// </summary>
public sealed class RestTableCommitter(IcebergRestClient client, IReadOnlyList<string> ns, string name) : ITableCommitter
{
    public async Task<TableState?> LoadAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return ToState(await client.LoadTableAsync(ns, name, cancellationToken));
        }
        catch (RestCatalogException e) when (e.Type is "NoSuchTableException" or "NoSuchNamespaceException")
        {
            return null;
        }
    }

    public async Task<TableState> CommitAsync(TableCommit commit, CancellationToken cancellationToken = default)
    {
        if (commit.Expected is null)
            throw new NotSupportedException($"Create {string.Join('.', ns)}.{name} with IcebergRestClient.CreateTableAsync; commits here change existing tables.");
        if (commit.Updates is null)
            throw new NotSupportedException($"A REST catalog takes changes as updates; {string.Join('.', ns)}.{name} was given whole metadata.");
        var requirements = new JsonArray([.. commit.Requirements.Select(r => Node(r.ToJson()))]);
        var updates = new JsonArray([.. commit.Updates.Select(u => Node(u.ToJson()))]);
        try
        {
            return ToState(await client.CommitTableAsync(ns, name, requirements, updates, cancellationToken));
        }
        catch (RestCatalogException e) when (e.IsCommitConflict)
        {
            throw new CommitFailedException(e.ServerMessage);
        }
    }

    private static TableState ToState(LoadedTable loaded) =>
        new(TableMetadata.FromJson(loaded.Metadata.GetRawText()),
            loaded.MetadataLocation ?? throw new InvalidOperationException("The catalog answered without a metadata-location."));

    private static JsonNode Node(string json) => JsonNode.Parse(json)!;
}
