using Apache.Arrow;

namespace DataPlane.Pipelines.Lookups;

/// <summary>
/// Where a lookup join's table comes from: an Iceberg table of the catalog (<see cref="IcebergLookupSource"/>) or a
/// DataPlane database's table (<see cref="DatabaseLookupSource"/>).
/// </summary>
internal interface ILookupSource
{
    /// <summary>The table's name as the SQL writes it (<c>namespace.table</c>, <c>db.name.table</c>).</summary>
    string Name { get; }

    /// <summary>The table's columns to compile against: a <see cref="KeyNotFoundException"/> (404) naming a table that does not exist.</summary>
    Task<Schema> SchemaAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The table's rows as one batch of <paramref name="schema"/> (the columns compiled with) when they changed since
    /// <paramref name="loaded"/> (the version the rows in hand are of; null: none yet); null when unchanged. A table
    /// larger than <see cref="PipelinesOptions.MaxLookupTableBytes"/> is an <see cref="ArgumentException"/>.
    /// </summary>
    Task<LookupLoad?> LoadIfChangedAsync(Schema schema, string? loaded, CancellationToken cancellationToken);
}

/// <summary>A lookup table's rows at one version (a snapshot id, a database bookmark), and where they were read (<c>catalog</c>, <c>primary</c> or a replica's id).</summary>
internal sealed record LookupLoad(RecordBatch Rows, string Version, string ServedBy)
{
    public DateTimeOffset LoadedAt { get; } = DateTimeOffset.UtcNow;
}
