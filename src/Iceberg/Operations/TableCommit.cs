using DataPlane.Iceberg.Metadata;

namespace DataPlane.Iceberg.Operations;

/// <summary>
/// One commit of the table library: the state it was computed on (null when it creates the table), the metadata it
/// produces, and, when it is a change of an existing table, the updates that produce it with the requirements they
/// rest on. A committer that swaps whole metadata files uses <see cref="Updated"/>; a catalog that applies changes
/// (DataPlane's grouped committer, any REST catalog) sends <see cref="Requirements"/> and <see cref="Updates"/>, so
/// commits of several writers that do not conflict land together.
/// </summary>
public sealed record TableCommit(TableState? Expected, TableMetadata Updated, IReadOnlyList<TableUpdate>? Updates = null)
{
    /// <summary>What must still hold for <see cref="Updates"/> to apply (empty for a create, which swaps whole metadata).</summary>
    public IReadOnlyList<TableRequirement> Requirements { get; } =
        Expected is null || Updates is null ? [] : TableRequirement.For(Expected.Metadata, Updates);
}
