namespace DataPlane.Iceberg.Catalogs;

/// <summary>A table's name in a catalog: its namespace levels and its own name. Written dotted, <c>db.events</c> or
/// <c>accounting.tax.payments</c>: the last part is the table, the rest its namespace.</summary>
public sealed record TableIdentifier(IReadOnlyList<string> Namespace, string Name)
{
    public static TableIdentifier Parse(string dotted)
    {
        var parts = dotted.Split('.');
        if (parts.Length < 2 || parts.Any(p => p.Length == 0))
            throw new ArgumentException($"Table name '{dotted}' must be namespace.table (e.g. db.events), with non-empty parts.");
        return new TableIdentifier(parts[..^1], parts[^1]);
    }

    public override string ToString() => string.Join('.', Namespace) + "." + Name;

    public bool Equals(TableIdentifier? other) =>
        other is not null && Name == other.Name && Namespace.SequenceEqual(other.Namespace, StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(ToString());
}
