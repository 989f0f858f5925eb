namespace DataPlane.Catalog.Sorting;

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
