namespace DataPlane.Iceberg.Sorting;

public enum SortDirection
{
    Asc,
    Desc,
}

public enum NullOrder
{
    NullsFirst,
    NullsLast,
}
