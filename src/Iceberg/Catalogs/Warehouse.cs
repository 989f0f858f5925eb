using DataPlane.Storage;

namespace DataPlane.Iceberg.Catalogs;

/// <summary>
/// The object store a catalog keeps its tables in, as this process reaches it: for what writes into the warehouse beside
/// the tables (a pipeline's raw file sinks) or compares folders with table locations. Not part of <see cref="ICatalog"/>:
/// a catalog over HTTP hands out each table's own file access (its location and storage config) but never the whole
/// warehouse, so the host that shares the warehouse with the catalog gives it: <c>dataplane serve</c> its own, a process
/// committing through a remote catalog the same location opened with its own keys.
/// </summary>
public sealed record Warehouse(IObjectStore Store);
