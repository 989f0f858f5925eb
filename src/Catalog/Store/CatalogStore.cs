using System.Data;
using System.Text.Json;
using Dapper;
using DataPlane.Iceberg.Catalogs;
using Microsoft.Data.Sqlite;

namespace DataPlane.Catalog.Store;

/// <summary>
/// The catalog's state in one SQLite file (Dapper): namespaces with their properties, and tables and views with the
/// location of their current metadata file. A commit is a compare-and-swap of that location, so of two writers
/// that started from the same metadata exactly one wins and the other learns it lost.
/// </summary>
internal sealed class CatalogStore
{
    private readonly string _connectionString;

    public CatalogStore(string databasePath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Pooling = true,
            // Waits this long on a write lock held by another connection before SQLITE_BUSY.
            DefaultTimeout = 30,
        }.ToString();
        using var c = Open();
        c.Execute("""
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS namespaces (
                key TEXT PRIMARY KEY,
                parent TEXT NOT NULL,
                properties TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS namespaces_parent ON namespaces(parent, key);
            CREATE TABLE IF NOT EXISTS tables (
                namespace TEXT NOT NULL,
                name TEXT NOT NULL,
                metadata_location TEXT NOT NULL,
                previous_metadata_location TEXT,
                PRIMARY KEY (namespace, name));
            CREATE TABLE IF NOT EXISTS views (
                namespace TEXT NOT NULL,
                name TEXT NOT NULL,
                metadata_location TEXT NOT NULL,
                previous_metadata_location TEXT,
                PRIMARY KEY (namespace, name));
            """);
        // Each table's location (TableLocations.Comparable form), so that no table is created or moved inside, over or
        // around another's. Catalogs from before it get the column empty; TableLocations fills it from the metadata.
        using var tx = c.BeginTransaction(deferred: false);
        if (!c.Query<string>("SELECT name FROM pragma_table_info('tables')", transaction: tx).Contains("location"))
            c.Execute("ALTER TABLE tables ADD COLUMN location TEXT", transaction: tx);
        c.Execute("CREATE INDEX IF NOT EXISTS tables_location ON tables(location)", transaction: tx);
        tx.Commit();
    }

    /// <summary>A pooled connection for reads, which need no durability setting (the hot load-table path).</summary>
    private SqliteConnection OpenRead()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        return c;
    }

    private SqliteConnection Open()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        // WAL makes NORMAL durable against process crashes; a commit that the client saw acknowledged must survive.
        c.Execute("PRAGMA synchronous = FULL;");
        return c;
    }

    // ---- namespaces ----

    public bool CreateNamespace(Namespace ns, IReadOnlyDictionary<string, string> properties)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        if (ns.Levels.Count > 1 && !NamespaceExists(c, tx, ns.ParentKey))
            throw CatalogException.NoSuchNamespace(Namespace.FromKey(ns.ParentKey).ToString());
        var inserted = c.Execute("INSERT OR IGNORE INTO namespaces(key, parent, properties) VALUES (@Key, @Parent, @Properties)",
            new { ns.Key, Parent = ns.ParentKey, Properties = JsonSerializer.Serialize(properties) }, tx) == 1;
        tx.Commit();
        return inserted;
    }

    public Dictionary<string, string>? LoadNamespace(Namespace ns)
    {
        using var c = OpenRead();
        var json = c.QuerySingleOrDefault<string>("SELECT properties FROM namespaces WHERE key = @Key", new { ns.Key });
        return json is null ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(json);
    }

    public bool NamespaceExists(Namespace ns)
    {
        using var c = OpenRead();
        return NamespaceExists(c, null, ns.Key);
    }

    private static bool NamespaceExists(SqliteConnection c, IDbTransaction? tx, string key) =>
        c.ExecuteScalar<long>("SELECT count(*) FROM namespaces WHERE key = @key", new { key }, tx) > 0;

    /// <summary>Children of <paramref name="parent"/> (top level when null), in key order, after <paramref name="afterKey"/>.</summary>
    public List<string> ListNamespaces(Namespace? parent, string? afterKey, int limit)
    {
        using var c = OpenRead();
        var parentKey = parent?.Key ?? "";
        if (parent is { } p && !NamespaceExists(c, null, p.Key))
            throw CatalogException.NoSuchNamespace(p.ToString());
        return c.Query<string>("SELECT key FROM namespaces WHERE parent = @parentKey AND (@afterKey IS NULL OR key > @afterKey) ORDER BY key LIMIT @limit",
            new { parentKey, afterKey, limit }).AsList();
    }

    /// <summary>Drops an empty namespace; false when it does not exist.</summary>
    public bool DropNamespace(Namespace ns)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        if (!NamespaceExists(c, tx, ns.Key)) return false;
        var tables = c.ExecuteScalar<long>("SELECT count(*) FROM tables WHERE namespace = @Key", new { ns.Key }, tx);
        var views = c.ExecuteScalar<long>("SELECT count(*) FROM views WHERE namespace = @Key", new { ns.Key }, tx);
        var children = c.ExecuteScalar<long>("SELECT count(*) FROM namespaces WHERE parent = @Key", new { ns.Key }, tx);
        if (tables + views + children > 0)
            throw CatalogException.NamespaceNotEmpty(ns.ToString(), $"{tables} table(s), {views} view(s), {children} namespace(s)");
        c.Execute("DELETE FROM namespaces WHERE key = @Key", new { ns.Key }, tx);
        tx.Commit();
        return true;
    }

    /// <summary>Applies removals then updates atomically; returns the keys removed and the removals that were absent.</summary>
    public (List<string> Removed, List<string> Missing) UpdateNamespaceProperties(Namespace ns, IReadOnlyList<string> removals, IReadOnlyDictionary<string, string> updates)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        var json = c.QuerySingleOrDefault<string>("SELECT properties FROM namespaces WHERE key = @Key", new { ns.Key }, tx)
                   ?? throw CatalogException.NoSuchNamespace(ns.ToString());
        var properties = JsonSerializer.Deserialize<Dictionary<string, string>>(json)!;
        var removed = new List<string>();
        var missing = new List<string>();
        foreach (var key in removals)
            (properties.Remove(key) ? removed : missing).Add(key);
        foreach (var (k, v) in updates) properties[k] = v;
        c.Execute("UPDATE namespaces SET properties = @Properties WHERE key = @Key", new { ns.Key, Properties = JsonSerializer.Serialize(properties) }, tx);
        tx.Commit();
        return (removed, missing);
    }

    // ---- tables and views ----

    public string? LoadMetadataLocation(CatalogObjectKind kind, Namespace ns, string name)
    {
        using var c = OpenRead();
        return c.QuerySingleOrDefault<string>($"SELECT metadata_location FROM {Table(kind)} WHERE namespace = @Key AND name = @name", new { ns.Key, name });
    }

    public List<string> ListNames(CatalogObjectKind kind, Namespace ns, string? after, int limit)
    {
        using var c = OpenRead();
        if (!NamespaceExists(c, null, ns.Key))
            throw CatalogException.NoSuchNamespace(ns.ToString());
        return c.Query<string>($"SELECT name FROM {Table(kind)} WHERE namespace = @Key AND (@after IS NULL OR name > @after) ORDER BY name LIMIT @limit",
            new { ns.Key, after, limit }).AsList();
    }

    /// <summary>
    /// Adds a table or view; a name is taken by either kind. Throws 404 without the namespace, 409 when taken or when a
    /// table's <paramref name="location"/> overlaps another table's or holds a namespace's folder.
    /// </summary>
    public void Create(CatalogObjectKind kind, Namespace ns, string name, string metadataLocation, TableLocation? location = null)
    {
        using var c = Open();
        using var tx = c.BeginTransaction(deferred: false);
        CheckFree(c, tx, ns, name);
        if (location is not null) CheckLocationFree(c, tx, location, ns, name, create: true);
        c.Execute($"INSERT INTO {Table(kind)}(namespace, name, metadata_location{(kind == CatalogObjectKind.Table ? ", location" : "")}) VALUES (@Key, @name, @metadataLocation{(kind == CatalogObjectKind.Table ? ", @Location" : "")})",
            new { ns.Key, name, metadataLocation, location?.Location }, tx);
        tx.Commit();
    }

    /// <summary>Removes a table or view; false when absent.</summary>
    public bool Drop(CatalogObjectKind kind, Namespace ns, string name)
    {
        using var c = Open();
        return c.Execute($"DELETE FROM {Table(kind)} WHERE namespace = @Key AND name = @name", new { ns.Key, name }) == 1;
    }

    public void Rename(CatalogObjectKind kind, Namespace fromNs, string from, Namespace toNs, string to)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        if (!NamespaceExists(c, tx, fromNs.Key))
            throw CatalogException.NoSuchNamespace(fromNs.ToString());
        if (c.ExecuteScalar<long>($"SELECT count(*) FROM {Table(kind)} WHERE namespace = @Key AND name = @from", new { fromNs.Key, from }, tx) == 0)
            throw kind == CatalogObjectKind.Table ? CatalogException.NoSuchTable(fromNs.Qualify(from)) : CatalogException.NoSuchView(fromNs.Qualify(from));
        CheckFree(c, tx, toNs, to);
        c.Execute($"UPDATE {Table(kind)} SET namespace = @toKey, name = @to WHERE namespace = @fromKey AND name = @from",
            new { toKey = toNs.Key, to, fromKey = fromNs.Key, from }, tx);
        tx.Commit();
    }

    /// <summary>
    /// Swaps every table's metadata location from what its committer read to its new file, all or none: the
    /// compare-and-swap behind single-table and multi-table commits. Returns the index of the first swap whose
    /// table moved on (or vanished) meanwhile, or -1 when all were applied.
    /// </summary>
    public int TrySwap(CatalogObjectKind kind, IReadOnlyList<MetadataSwap> swaps)
    {
        using var c = Open();
        // BEGIN IMMEDIATE takes the write lock up front, so two swaps never deadlock upgrading read locks.
        using var tx = c.BeginTransaction(deferred: false);
        for (var i = 0; i < swaps.Count; i++)
        {
            var s = swaps[i];
            var changed = s.Expected is null
                ? InsertIfFree(c, tx, kind, s)
                : Update(c, tx, kind, s);
            if (!changed)
            {
                tx.Rollback();
                return i;
            }
        }
        tx.Commit();
        return -1;
    }

    /// <summary>
    /// Applies independent swaps in one transaction (one fsync for all): each lands, or loses because its table moved
    /// on or vanished, or fails (a create whose name is taken) on its own, without affecting the others.
    /// </summary>
    public SwapOutcome[] TrySwapEach(CatalogObjectKind kind, IReadOnlyList<MetadataSwap> swaps)
    {
        var outcomes = new SwapOutcome[swaps.Count];
        using var c = Open();
        using var tx = c.BeginTransaction(deferred: false);
        for (var i = 0; i < swaps.Count; i++)
        {
            var s = swaps[i];
            try
            {
                // Either statement changes nothing when it does not apply (the checks come before the insert).
                outcomes[i] = new SwapOutcome(s.Expected is null
                    ? InsertIfFree(c, tx, kind, s)
                    : Update(c, tx, kind, s), null);
            }
            catch (CatalogException e)
            {
                outcomes[i] = new SwapOutcome(false, e);
            }
        }
        tx.Commit();
        return outcomes;
    }

    private static bool InsertIfFree(SqliteConnection c, IDbTransaction tx, CatalogObjectKind kind, MetadataSwap s)
    {
        CheckFree(c, tx, s.Namespace, s.Name);
        if (kind == CatalogObjectKind.View)
            return c.Execute("INSERT INTO views(namespace, name, metadata_location) VALUES (@Key, @Name, @Next)", new { s.Namespace.Key, s.Name, s.Next }, tx) == 1;
        var location = s.Location ?? throw new ArgumentException($"A new table needs its location: {s.Namespace.Qualify(s.Name)}.");
        CheckLocationFree(c, tx, location, s.Namespace, s.Name, create: true);
        return c.Execute("INSERT INTO tables(namespace, name, metadata_location, location) VALUES (@Key, @Name, @Next, @Location)",
            new { s.Namespace.Key, s.Name, s.Next, location.Location }, tx) == 1;
    }

    /// <summary>Moves a table or view to its next metadata file if it is still at the expected one; a table whose location changes is checked first.</summary>
    private static bool Update(SqliteConnection c, IDbTransaction tx, CatalogObjectKind kind, MetadataSwap s)
    {
        if (s.Location is { } location)
        {
            if (c.ExecuteScalar<long>("SELECT count(*) FROM tables WHERE namespace = @Key AND name = @Name AND metadata_location = @Expected",
                    new { s.Namespace.Key, s.Name, s.Expected }, tx) == 0)
                return false;
            CheckLocationFree(c, tx, location, s.Namespace, s.Name, create: false);
        }
        return c.Execute($"UPDATE {Table(kind)} SET metadata_location = @Next, previous_metadata_location = @Expected{(s.Location is null ? "" : ", location = @Location")} WHERE namespace = @Key AND name = @Name AND metadata_location = @Expected",
            new { s.Next, s.Expected, s.Namespace.Key, s.Name, s.Location?.Location }, tx) == 1;
    }

    // ---- table locations ----

    /// <summary>What holds <paramref name="location"/> other than table <paramref name="name"/> itself: a table at, above or
    /// below it, or a namespace whose folder is at or below it (its tables' default locations would be inside); null when free.</summary>
    public string? FindLocationUse(TableLocation location, Namespace ns, string name)
    {
        using var c = OpenRead();
        return FindLocationUse(c, null, location, ns, name);
    }

    private static string? FindLocationUse(SqliteConnection c, IDbTransaction? tx, TableLocation location, Namespace ns, string name)
    {
        var l = location.Location;
        // Ancestors (and the location itself) by equality, descendants as the key range [l + "/", l + "0"): '0' follows '/'.
        var table = c.QueryFirstOrDefault<(string Namespace, string Name, string Location)?>(
            "SELECT namespace, name, location FROM tables WHERE (location IN @Ancestors OR (location >= @Below AND location < @After)) AND NOT (namespace = @Key AND name = @name) LIMIT 1",
            new { Ancestors = location.SelfAndAncestors, Below = l + "/", After = l + "0", ns.Key, name }, tx);
        if (table is { } t)
            return $"{location.Relation(t.Location)} table {Namespace.FromKey(t.Namespace).Qualify(t.Name)} ({t.Location})";
        var folder = location.WarehouseKey;
        var nsKey = c.QueryFirstOrDefault<string?>(
            "SELECT key FROM namespaces WHERE replace(key, char(31), '/') = @folder OR (replace(key, char(31), '/') >= @Below AND replace(key, char(31), '/') < @After) LIMIT 1",
            new { folder, Below = folder + "/", After = folder + "0" }, tx);
        if (nsKey is null) return null;
        var nsFolder = nsKey.Replace(Namespace.Separator, '/');
        return $"{(nsFolder == folder ? "is" : "holds")} the folder of namespace {Namespace.FromKey(nsKey)} ({location.WarehouseUri}/{nsFolder}), where its tables are created";
    }

    private static void CheckLocationFree(SqliteConnection c, IDbTransaction tx, TableLocation location, Namespace ns, string name, bool create)
    {
        if (FindLocationUse(c, tx, location, ns, name) is { } use)
            throw location.Taken(use, create);
    }

    /// <summary>Tables whose location is not known yet (catalogs from before the column): namespace key, name, metadata location.</summary>
    public List<(string Namespace, string Name, string MetadataLocation)> TablesWithoutLocation()
    {
        using var c = OpenRead();
        return c.Query<(string, string, string)>("SELECT namespace, name, metadata_location FROM tables WHERE location IS NULL").AsList();
    }

    /// <summary>Records a table's location read from its metadata file, if the table is still at that file and has none.</summary>
    public void SetLocation(string namespaceKey, string name, string metadataLocation, string location)
    {
        using var c = Open();
        c.Execute("UPDATE tables SET location = @location WHERE namespace = @namespaceKey AND name = @name AND metadata_location = @metadataLocation AND location IS NULL",
            new { namespaceKey, name, metadataLocation, location });
    }

    /// <summary>The tables located exactly at one of <paramref name="locations"/>: namespace key, name, metadata location, location.</summary>
    public List<(string Namespace, string Name, string MetadataLocation, string Location)> TablesAt(IReadOnlyCollection<string> locations)
    {
        using var c = OpenRead();
        var found = new List<(string, string, string, string)>();
        foreach (var chunk in locations.Chunk(500))
            found.AddRange(c.Query<(string, string, string, string)>(
                "SELECT namespace, name, metadata_location, location FROM tables WHERE location IN @chunk", new { chunk }));
        return found;
    }

    private static void CheckFree(SqliteConnection c, IDbTransaction tx, Namespace ns, string name)
    {
        if (!NamespaceExists(c, tx, ns.Key))
            throw CatalogException.NoSuchNamespace(ns.ToString());
        if (c.ExecuteScalar<long>("SELECT count(*) FROM tables WHERE namespace = @Key AND name = @name", new { ns.Key, name }, tx) > 0)
            throw CatalogException.AlreadyExists($"Table already exists: {ns.Qualify(name)}");
        if (c.ExecuteScalar<long>("SELECT count(*) FROM views WHERE namespace = @Key AND name = @name", new { ns.Key, name }, tx) > 0)
            throw CatalogException.AlreadyExists($"View with same name already exists: {ns.Qualify(name)}");
    }

    private static string Table(CatalogObjectKind kind) => kind == CatalogObjectKind.Table ? "tables" : "views";
}

internal enum CatalogObjectKind { Table, View }

/// <summary>What became of one swap of <see cref="CatalogStore.TrySwapEach"/>: applied, lost the race, or refused.</summary>
internal readonly record struct SwapOutcome(bool Applied, CatalogException? Error);

/// <summary>
/// One table's step in a commit: from the metadata file it was read at (null: create) to its new file. A table's
/// <see cref="Location"/> is given when it is created or its location changes (null: unchanged); the swap then
/// refuses it if another table's location overlaps it.
/// </summary>
internal sealed record MetadataSwap(Namespace Namespace, string Name, string? Expected, string Next, TableLocation? Location = null);
