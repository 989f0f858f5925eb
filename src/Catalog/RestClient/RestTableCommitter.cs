using System.Text.Json.Nodes;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;

namespace DataPlane.Catalog.RestClient;

/// <summary>
/// A table of any Iceberg REST catalog for the table library: loads through <c>GET .../tables/{name}</c> and commits
/// through <c>POST .../tables/{name}</c> with <c>assert-table-uuid</c> and <c>assert-ref-snapshot-id</c> for every
/// branch or tag it moves, so a lost race comes back as <see cref="CommitFailedException"/> and the library retries.
/// The updates sent are the difference between the expected and the new metadata: snapshots, refs and properties
/// (what appends, overwrites, deletes, branches, rollbacks and snapshot expiry change). Tables are created with
/// <see cref="IcebergRestClient.CreateTableAsync"/>.
/// </summary>
public sealed class RestTableCommitter(IcebergRestClient client, IReadOnlyList<string> ns, string name) : ITableCommitter
{
    public async Task<TableState?> LoadAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return ToState(await client.LoadTableAsync(ns, name, cancellationToken).ConfigureAwait(false));
        }
        catch (RestCatalogException e) when (e.Type == "NoSuchTableException")
        {
            return null;
        }
    }

    public async Task<TableState> CommitAsync(TableState? expected, TableMetadata updated, CancellationToken cancellationToken = default)
    {
        if (expected is null)
            throw new NotSupportedException($"Create {string.Join('.', ns)}.{name} with IcebergRestClient.CreateTableAsync; commits here change existing tables.");
        var before = expected.Metadata;
        var requirements = new JsonArray { Node(new TableRequirement.AssertTableUuid(before.TableUuid).ToJson()) };
        var updates = new JsonArray();
        CheckUnchanged(before, updated);
        foreach (var snapshot in updated.Snapshots.Where(s => before.Snapshot(s.SnapshotId) is null))
            updates.Add(Node(new TableUpdate.AddSnapshot(snapshot).ToJson()));
        foreach (var (refName, reference) in updated.Refs)
        {
            before.Refs.TryGetValue(refName, out var old);
            if (old == reference) continue;
            requirements.Add(Node(new TableRequirement.AssertRefSnapshotId(refName, old?.SnapshotId).ToJson()));
            updates.Add(Node(new TableUpdate.SetSnapshotRef(refName, reference).ToJson()));
        }
        foreach (var (refName, old) in before.Refs.Where(r => !updated.Refs.ContainsKey(r.Key)))
        {
            requirements.Add(Node(new TableRequirement.AssertRefSnapshotId(refName, old.SnapshotId).ToJson()));
            updates.Add(Node(new TableUpdate.RemoveSnapshotRef(refName).ToJson()));
        }
        var removedSnapshots = before.Snapshots.Where(s => updated.Snapshot(s.SnapshotId) is null).Select(s => s.SnapshotId).ToList();
        if (removedSnapshots.Count > 0)
        {
            // Expiry chose them on this metadata: no branch or tag may have moved since (onto one of them, say), or the
            // catalog would drop that ref with them.
            foreach (var (refName, reference) in updated.Refs.Where(r => before.Refs.TryGetValue(r.Key, out var old) && old == r.Value))
                requirements.Add(Node(new TableRequirement.AssertRefSnapshotId(refName, reference.SnapshotId).ToJson()));
            updates.Add(Node(new TableUpdate.RemoveSnapshots(removedSnapshots).ToJson()));
        }
        var set = updated.Properties.Where(p => !before.Properties.TryGetValue(p.Key, out var v) || v != p.Value).ToDictionary(p => p.Key, p => p.Value);
        if (set.Count > 0) updates.Add(Node(new TableUpdate.SetProperties(set).ToJson()));
        var removed = before.Properties.Keys.Where(k => !updated.Properties.ContainsKey(k)).ToList();
        if (removed.Count > 0) updates.Add(Node(new TableUpdate.RemoveProperties(removed).ToJson()));
        try
        {
            return ToState(await client.CommitTableAsync(ns, name, requirements, updates, cancellationToken).ConfigureAwait(false));
        }
        catch (RestCatalogException e) when (e.IsCommitConflict)
        {
            throw new CommitFailedException(e.ServerMessage);
        }
    }

    private static void CheckUnchanged(TableMetadata before, TableMetadata updated)
    {
        var changed = new List<string>();
        if (before.Location != updated.Location) changed.Add("location");
        if (before.CurrentSchemaId != updated.CurrentSchemaId || before.Schemas.Count != updated.Schemas.Count) changed.Add("schema");
        if (before.DefaultSpecId != updated.DefaultSpecId || before.PartitionSpecs.Count != updated.PartitionSpecs.Count) changed.Add("partition spec");
        if (before.DefaultSortOrderId != updated.DefaultSortOrderId || before.SortOrders.Count != updated.SortOrders.Count) changed.Add("sort order");
        if (changed.Count > 0)
            throw new NotSupportedException($"Committing a {string.Join(", ", changed)} change through a REST catalog is not supported here; only snapshots, branches, tags and properties.");
    }

    private static TableState ToState(LoadedTable loaded) =>
        new(TableMetadata.FromJson(loaded.Metadata.GetRawText()),
            loaded.MetadataLocation ?? throw new InvalidOperationException("The catalog answered without a metadata-location."));

    private static JsonNode Node(string json) => JsonNode.Parse(json)!;
}
