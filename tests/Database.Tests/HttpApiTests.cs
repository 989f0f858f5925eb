using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DataPlane.Database.Execution;
using DataPlane.Database.Sessions;

namespace DataPlane.Database.Tests;

public sealed class HttpApiTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private DatabaseServer _server = null!;

    public async Task InitializeAsync()
    {
        // Generous: a read with a bookmark waits for a replica to reach it, and a loaded machine may take seconds (the default 2 s then falls back to the primary).
        _server = await DatabaseServer.StartAsync(new DatabaseOptions { DataDirectory = _dir.Path, SyncCommits = false, ReplicaReadTimeout = TimeSpan.FromSeconds(30) });
        var created = await _server.Http.PostAsJsonAsync("api/v1/databases", new { name = "app", replicas = 2 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        // Replicas bootstrap in the background after the database is created; until one is ready the primary serves
        // bookmarked reads, which these tests tell apart from a replica's.
        var database = (Hosting.ReplicatedDatabase)await _server.Catalog.GetAsync("app");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!database.Replicas.All(r => r.IsReady))
        {
            Assert.True(DateTime.UtcNow < deadline, "the replicas did not become ready in 60 s");
            await Task.Delay(20);
        }
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    private async Task<(HttpStatusCode Status, JsonElement Body, string? Bookmark)> PostAsync(object body, string? session = null, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "db/app/query")
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        if (session is not null) request.Headers.Add(Bookmark.HeaderName, session);
        if (token is not null) request.Headers.Authorization = new("Bearer", token);
        using var response = await _server.Http.SendAsync(request);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        string? header = response.Headers.TryGetValues(Bookmark.HeaderName, out var values) ? values.First() : null;
        return (response.StatusCode, json, header);
    }

    [Fact]
    public async Task Query_returns_rows_meta_and_the_same_bookmark_in_header_and_body()
    {
        var (status, body, header) = await PostAsync(new
        {
            batch = new object[]
            {
                new { sql = "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, score REAL, avatar BLOB)" },
                new { sql = "INSERT INTO users(name, score, avatar) VALUES (?, ?, ?)", @params = new object[] { "ada", 1.5, new { base64 = "AAEC" } } },
                new { sql = "INSERT INTO users(name, score) VALUES (:name, @score)", @params = new Dictionary<string, object> { ["name"] = "bob", ["@score"] = 2 } },
            },
        });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(header, body.GetProperty("bookmark").GetString());
        Assert.Equal(2, body.GetProperty("results")[2].GetProperty("meta").GetProperty("last_row_id").GetInt64());
        Assert.Equal(2, body.GetProperty("meta").GetProperty("rows_written").GetInt64());
        Assert.Equal("primary", body.GetProperty("meta").GetProperty("served_by").GetString());

        var (readStatus, read, readHeader) = await PostAsync(new { sql = "SELECT name, score, avatar FROM users ORDER BY id" }, session: header);
        Assert.Equal(HttpStatusCode.OK, readStatus);
        Assert.StartsWith("app-r", read.GetProperty("meta").GetProperty("served_by").GetString());
        Assert.True(string.CompareOrdinal(readHeader, header) >= 0);
        var rows = read.GetProperty("results")[0].GetProperty("rows");
        Assert.Equal("ada", rows[0][0].GetString());
        Assert.Equal(1.5, rows[0][1].GetDouble());
        Assert.Equal("AAEC", rows[0][2].GetProperty("base64").GetString());
        Assert.Equal(2, rows[1][1].GetInt64());
        Assert.Equal(JsonValueKind.Null, rows[1][2].ValueKind);
        Assert.Equal(new[] { "name", "score", "avatar" }, read.GetProperty("results")[0].GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public async Task A_write_sent_with_a_replica_session_is_executed_by_the_primary()
    {
        await PostAsync(new { sql = "CREATE TABLE t(x)" });
        var (status, body, _) = await PostAsync(new { sql = "INSERT INTO t VALUES (1)" }, session: SessionConstraint.FirstUnconstrained);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("primary", body.GetProperty("meta").GetProperty("served_by").GetString());
    }

    [Fact]
    public async Task A_syntax_error_is_400_with_sqlites_message()
    {
        var (status, body, _) = await PostAsync(new { sql = "SELEC 1" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("near \"SELEC\": syntax error", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("\0")]
    [InlineData("SELECT 1;\0")]
    [InlineData("INSERT INTO t VALUES (1)\0; DROP TABLE t")]
    public async Task Sql_holding_a_nul_character_is_400_and_the_database_answers_the_next_request(string sql)
    {
        // SQLite stops reading at a NUL and hands it back as the statement's tail: it used to loop there for ever.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var (status, body, _) = await PostAsync(new { sql }).WaitAsync(timeout.Token);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("NUL character", body.GetProperty("error").GetProperty("message").GetString());
        var (next, _, _) = await PostAsync(new { sql = "SELECT 1" }).WaitAsync(timeout.Token);
        Assert.Equal(HttpStatusCode.OK, next);
    }

    [Fact]
    public async Task A_missing_table_is_400_naming_it()
    {
        var (status, body, _) = await PostAsync(new { sql = "SELECT * FROM nowhere" }, session: SessionConstraint.FirstUnconstrained);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("no such table: nowhere", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("ATTACH DATABASE '/tmp/other.db' AS other", "ATTACH is refused")]
    [InlineData("SELECT load_extension('/tmp/evil.so')", "load_extension() is refused")]
    [InlineData("PRAGMA journal_mode=DELETE", "Setting PRAGMA journal_mode is refused")]
    [InlineData("PRAGMA writable_schema=ON", "PRAGMA writable_schema is refused")]
    [InlineData("VACUUM INTO '/tmp/copy.db'", "VACUUM is refused")]
    [InlineData("BEGIN", "Transaction statements")]
    [InlineData("CREATE TEMP TABLE x(a)", "TEMP objects are refused")]
    [InlineData("SELECT * FROM _dataplane_meta", "reserved for replication")]
    [InlineData("ATTACH ':memory:' AS scratch", "ATTACH is refused")]
    [InlineData("DETACH DATABASE scratch", "DETACH is refused")]
    [InlineData("VACUUM", "VACUUM is refused")]
    [InlineData("/* hidden */ VACUUM INTO '/tmp/copy.db'", "VACUUM is refused")]
    [InlineData("SELECT load_extension('/tmp/evil.so', 'entry')", "load_extension() is refused")]
    [InlineData("PRAGMA main.journal_mode = OFF", "Setting PRAGMA journal_mode is refused")]
    [InlineData("PRAGMA temp_store_directory = '/tmp'", "PRAGMA temp_store_directory is refused")]
    [InlineData("PRAGMA data_store_directory = '/tmp'", "PRAGMA data_store_directory is refused")]
    [InlineData("PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA wal_checkpoint is refused")]
    [InlineData("PRAGMA locking_mode = EXCLUSIVE", "PRAGMA locking_mode is refused")]
    [InlineData("PRAGMA mmap_size = 268435456", "PRAGMA mmap_size is refused")]
    [InlineData("PRAGMA wal_autocheckpoint = 1", "PRAGMA wal_autocheckpoint is refused")]
    [InlineData("PRAGMA synchronous = OFF", "Setting PRAGMA synchronous is refused")]
    [InlineData("CREATE VIRTUAL TABLE docs USING fts5(body)", "Virtual tables are refused")]
    public async Task Statements_that_reach_outside_the_database_are_refused_with_a_clear_message(string sql, string message)
    {
        foreach (var session in new[] { SessionConstraint.FirstPrimary, SessionConstraint.FirstUnconstrained })
        {
            var (status, body, _) = await PostAsync(new { sql }, session);
            Assert.True(HttpStatusCode.Forbidden == status, $"{session}: {status} {body}");
            Assert.Equal("statement_refused", body.GetProperty("error").GetProperty("code").GetString());
            Assert.Contains(message, body.GetProperty("error").GetProperty("message").GetString());
        }
        Assert.False(File.Exists("/tmp/copy.db") && File.GetLastWriteTimeUtc("/tmp/copy.db") > DateTime.UtcNow.AddMinutes(-1));
    }

    [Fact]
    public async Task Reading_pragmas_are_allowed()
    {
        await PostAsync(new { sql = "CREATE TABLE t(a, b)" });
        var (status, body, _) = await PostAsync(new { sql = "PRAGMA table_info(t)" });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body.GetProperty("results")[0].GetProperty("rows").GetArrayLength());
    }

    [Fact]
    public async Task A_read_only_token_reads_but_its_writes_are_403_and_a_missing_token_is_401()
    {
        await PostAsync(new { sql = "CREATE TABLE t(x)" });
        var writer = await (await _server.Http.PostAsJsonAsync("api/v1/databases/app/tokens", new { access = "read-write" })).Content.ReadFromJsonAsync<JsonElement>();
        string writeToken = writer.GetProperty("token").GetString()!;
        using var issue = new HttpRequestMessage(HttpMethod.Post, "api/v1/databases/app/tokens") { Content = JsonContent.Create(new { access = "read-only" }) };
        issue.Headers.Authorization = new("Bearer", writeToken);
        var reader = await (await _server.Http.SendAsync(issue)).Content.ReadFromJsonAsync<JsonElement>();
        string readToken = reader.GetProperty("token").GetString()!;

        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(new { sql = "SELECT 1" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(new { sql = "INSERT INTO t VALUES (1)" }, token: writeToken)).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(new { sql = "SELECT count(*) FROM t" }, token: readToken)).Status);
        var (status, body, _) = await PostAsync(new { sql = "INSERT INTO t VALUES (2)" }, SessionConstraint.FirstUnconstrained, token: readToken);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("read-only", body.GetProperty("error").GetProperty("message").GetString());
        var (_, count, _) = await PostAsync(new { sql = "SELECT count(*) FROM t" }, token: readToken);
        Assert.Equal(1, count.GetProperty("results")[0].GetProperty("rows")[0][0].GetInt64());
    }

    [Fact]
    public async Task Bad_bookmarks_and_bodies_are_400_saying_what_is_valid()
    {
        var (status, body, _) = await PostAsync(new { sql = "SELECT 1" }, session: "yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("first-unconstrained", body.GetProperty("error").GetProperty("message").GetString());
        (status, body, _) = await PostAsync(new { query = "SELECT 1" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("\"sql\"", body.GetProperty("error").GetProperty("message").GetString());
        (status, body, _) = await PostAsync(new { sql = "SELECT ?" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("Parameter 1 has no value", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Databases_are_created_listed_and_deleted_by_name()
    {
        var bad = await _server.Http.PostAsJsonAsync("api/v1/databases", new { name = "Bad Name!" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        // A name becomes a folder: a final line break ('$' matches before one) is not a name's.
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Http.PostAsJsonAsync("api/v1/databases", new { name = "app2\n" })).StatusCode);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "app2\n")));
        Assert.Equal(HttpStatusCode.Conflict, (await _server.Http.PostAsJsonAsync("api/v1/databases", new { name = "app" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await _server.Http.PostAsJsonAsync("api/v1/databases", new { name = "other", replicas = 0 })).StatusCode);
        var list = await _server.Http.GetFromJsonAsync<JsonElement>("api/v1/databases");
        Assert.Equal(new[] { "app", "other" }, list.GetProperty("databases").EnumerateArray().Select(d => d.GetProperty("name").GetString()));
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Http.DeleteAsync("api/v1/databases/other")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Http.PostAsJsonAsync("db/other/query", new { sql = "SELECT 1" })).StatusCode);
    }

    [Fact]
    public async Task Replica_lag_is_listed_per_replica_and_in_metrics()
    {
        await PostAsync(new { sql = "CREATE TABLE t(x)" });
        var (_, _, bookmark) = await PostAsync(new { sql = "INSERT INTO t VALUES (1)" });
        await PostAsync(new { sql = "SELECT 1" }, session: bookmark); // waits on one replica
        var replicas = await _server.Http.GetFromJsonAsync<JsonElement>("db/app/replicas");
        Assert.Equal(2, replicas.GetProperty("replicas").GetArrayLength());
        foreach (var r in replicas.GetProperty("replicas").EnumerateArray())
        {
            Assert.True(r.GetProperty("lag_positions").GetInt64() >= 0);
            Assert.Equal(JsonValueKind.Number, r.GetProperty("lag_ms").ValueKind);
        }
        var metrics = await _server.Http.GetStringAsync("metrics");
        Assert.Contains("dataplane_db_replica_lag_positions{otel_scope_name=\"DataPlane.Databases\",database=\"app\",kind=\"in-process\",replica=\"app-r1\"}", metrics);
        // Each replica's apply lag is a histogram with one observation per transaction it applies from the log (a replica
        // that started late may have had the first ones in its snapshot): three more inserts move each count by three.
        string[] names = ["app-r1", "app-r2"];
        var before = await ApplyLagCountsAsync(names, position: 2);
        for (int i = 0; i < 3; i++) await PostAsync(new { sql = "INSERT INTO t VALUES (2)" });
        var after = await ApplyLagCountsAsync(names, position: 5);
        foreach (var replica in names) Assert.Equal(before[replica] + 3, after[replica]);
        var text = await _server.Http.GetStringAsync("metrics");
        Assert.Contains($"dataplane_db_replica_apply_lag_seconds_bucket{{otel_scope_name=\"DataPlane.Databases\",database=\"app\",kind=\"in-process\",replica=\"app-r1\",le=\"+Inf\"}} {after["app-r1"]}\n", text);
    }

    /// <summary>Each replica's apply-lag observations, once every replica has applied <paramref name="position"/>.</summary>
    private async Task<Dictionary<string, long>> ApplyLagCountsAsync(string[] replicas, long position)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var text = await _server.Http.GetStringAsync("metrics");
            string Labels(string replica) => $"{{otel_scope_name=\"DataPlane.Databases\",database=\"app\",kind=\"in-process\",replica=\"{replica}\"}}";
            if (replicas.All(r => text.Contains($"dataplane_db_replica_applied_position{Labels(r)} {position}\n", StringComparison.Ordinal)))
            {
                return replicas.ToDictionary(r => r, r =>
                {
                    var match = System.Text.RegularExpressions.Regex.Match(text, $"dataplane_db_replica_apply_lag_seconds_count{System.Text.RegularExpressions.Regex.Escape(Labels(r))} (\\d+)\n");
                    return match.Success ? long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
                });
            }
            Assert.True(DateTime.UtcNow < deadline, $"replicas did not apply position {position}:\n{text}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task The_client_keeps_its_session_and_reads_its_own_writes_from_replicas()
    {
        var client = _server.Client();
        await client.QueryAsync("app", "CREATE TABLE t(x)");
        for (int i = 0; i < 20; i++)
        {
            await client.QueryAsync("app", "INSERT INTO t VALUES (?)", i);
            var read = await client.QueryAsync("app", "SELECT count(*) FROM t");
            Assert.True((long)i + 1 == (long)read.Results[0].Rows[0][0]!, $"i={i} got {read.Results[0].Rows[0][0]} from {read.ServedBy} at {read.Position}, session {client.Session}");
        }
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendRawAsync(HttpMethod method, string path, string? json)
    {
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await _server.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Theory]
    [InlineData("""{"name": "x", "replicas": 1e20}""", "\"replicas\" must be a whole number from 0 to 16 (got 1e20)")]
    [InlineData("""{"name": "x", "replicas": 2.5}""", "\"replicas\" must be a whole number from 0 to 16 (got 2.5)")]
    [InlineData("""{"name": "x", "replicas": "2"}""", "\"replicas\" must be a whole number from 0 to 16 (got \"2\")")]
    [InlineData("""{"name": "x", "replicas": 17}""", "\"replicas\" must be a whole number from 0 to 16 (got 17)")]
    [InlineData("""{"name": 5}""", "\"name\" must be a string (got 5)")]
    [InlineData("""[1]""", "must be a JSON object such as {\"name\": \"app\", \"replicas\": 1} (got [1])")]
    [InlineData("""null""", "must be a JSON object such as {\"name\": \"app\", \"replicas\": 1} (got null)")]
    [InlineData("""{"name": "\ud800"}""", "not text at $.name: the escape \\ud800 is half of a UTF-16 surrogate pair")]
    public async Task A_create_database_body_of_the_wrong_shape_is_400_naming_the_value_and_creates_nothing(string json, string message)
    {
        var (status, body) = await SendRawAsync(HttpMethod.Post, "api/v1/databases", json);

        Assert.True(HttpStatusCode.BadRequest == status, $"{status} {body}");
        Assert.Contains(message, body.GetProperty("error").GetProperty("message").GetString());
        var list = await _server.Http.GetFromJsonAsync<JsonElement>("api/v1/databases");
        Assert.Equal(new[] { "app" }, list.GetProperty("databases").EnumerateArray().Select(d => d.GetProperty("name").GetString()));
    }

    [Theory]
    [InlineData("""{"access": 5}""", "\"access\" must be a string (got 5)")]
    [InlineData("""{"access": ["read-only"]}""", "\"access\" must be a string (got [\"read-only\"])")]
    [InlineData("""[1]""", "must be a JSON object such as {\"access\": \"read-only\"} (got [1])")]
    [InlineData("""{"access": "admin"}""", "\"access\" must be \"read-only\" or \"read-write\" (got 'admin')")]
    public async Task A_token_body_of_the_wrong_shape_is_400_naming_the_value_and_issues_nothing(string json, string message)
    {
        var (status, body) = await SendRawAsync(HttpMethod.Post, "api/v1/databases/app/tokens", json);

        Assert.True(HttpStatusCode.BadRequest == status, $"{status} {body}");
        Assert.Contains(message, body.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(new { sql = "SELECT 1" })).Status); // still open: no token was issued
    }

    [Theory]
    [InlineData("ALTER TABLE _dataplane_meta RENAME TO m", "Table '_dataplane_meta' is reserved")]
    [InlineData("ALTER TABLE _dataplane_meta ADD COLUMN y", "Table '_dataplane_meta' is reserved")]
    [InlineData("ALTER TABLE t RENAME TO _dataplane_t", "The name '_dataplane_t' is reserved")]
    [InlineData("ALTER TABLE t RENAME TO _DataPlane_T", "The name '_DataPlane_T' is reserved")]
    [InlineData("CREATE VIEW _dataplane_v AS SELECT 1", "Table '_dataplane_v' is reserved")]
    public async Task Statements_that_touch_or_make_a_reserved_name_are_403_and_change_nothing(string sql, string message)
    {
        await PostAsync(new { sql = "CREATE TABLE t(x)" });
        var (_, before, _) = await PostAsync(new { sql = "SELECT type, name, sql FROM sqlite_schema ORDER BY name" }, SessionConstraint.FirstPrimary);

        var (status, body, _) = await PostAsync(new { batch = new[] { new { sql = "INSERT INTO t VALUES (1)" }, new { sql } } });

        Assert.True(HttpStatusCode.Forbidden == status, $"{status} {body}");
        Assert.Equal("statement_refused", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains(message, body.GetProperty("error").GetProperty("message").GetString());
        var (_, after, _) = await PostAsync(new { sql = "SELECT type, name, sql FROM sqlite_schema ORDER BY name" }, SessionConstraint.FirstPrimary);
        Assert.Equal(before.GetProperty("results").GetRawText(), after.GetProperty("results").GetRawText());
        var (written, _, bookmark) = await PostAsync(new { sql = "INSERT INTO t VALUES (2)" });
        Assert.Equal(HttpStatusCode.OK, written);
        var (_, rows, _) = await PostAsync(new { sql = "SELECT x FROM t" }, session: bookmark);
        Assert.Equal("[[2]]", rows.GetProperty("results")[0].GetProperty("rows").GetRawText());
    }

    [Theory]
    [InlineData("""{"sql": "SELECT '\ud800'"}""", "not text at $.sql: the escape \\ud800")]
    [InlineData("""{"sql": "SELECT ?", "params": ["a\udc00"]}""", "not text at $.params[0]: the escape \\udc00")]
    [InlineData("""{"sql": "SELECT :a", "params": {"\ud800": 1}}""", "not text at $.params (a property name): the escape \\ud800")]
    [InlineData("""{"batch": [{"sql": "SELECT ?", "params": [{"base64": "\ud800"}]}]}""", "not text at $.batch[0].params[0].base64: the escape \\ud800")]
    public async Task A_lone_surrogate_escape_in_a_query_is_400_naming_where(string json, string message)
    {
        var (status, body) = await SendRawAsync(HttpMethod.Post, "db/app/query", json);

        Assert.True(HttpStatusCode.BadRequest == status, $"{status} {body}");
        Assert.Equal("bad_text", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains(message, body.GetProperty("error").GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("db/app/query", "{\"sql\": \"SELECT 'a\u00FFb'\"}", "not text at $.sql: the string is not valid UTF-8 (byte 0xFF")]
    [InlineData("db/app/query", "{\"sql\": \"SELECT ?\", \"params\": [\"\u00C0\u00AF\"]}", "not text at $.params[0]: the string is not valid UTF-8 (byte 0xC0")]
    [InlineData("api/v1/databases", "{\"name\": \"a\u00FF\", \"replicas\": 1}", "not text at $.name")]
    [InlineData("api/v1/databases/app/tokens", "{\"access\": \"read\u00FF\"}", "not text at $.access")]
    public async Task Bytes_that_are_not_utf8_in_a_string_are_400_naming_where_and_change_nothing(string path, string oneBytePerChar, string message)
    {
        // Each char of the body is one byte: \u00FF is the byte 0xFF, which is not UTF-8 on its own.
        using var content = new ByteArrayContent(oneBytePerChar.Select(c => (byte)c).ToArray());
        content.Headers.ContentType = new("application/json");
        using var response = await _server.Http.PostAsync(path, content);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.True(HttpStatusCode.BadRequest == response.StatusCode, $"{response.StatusCode} {body}");
        Assert.Contains(message, body.GetProperty("error").GetProperty("message").GetString());
        var list = await _server.Http.GetFromJsonAsync<JsonElement>("api/v1/databases");
        Assert.Equal(new[] { "app" }, list.GetProperty("databases").EnumerateArray().Select(d => d.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task A_named_parameter_given_twice_takes_the_last_value()
    {
        var (status, body) = await SendRawAsync(HttpMethod.Post, "db/app/query", """{"sql": "SELECT :a", "params": {"a": 1, "a": 2}}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("[[2]]", body.GetProperty("results")[0].GetProperty("rows").GetRawText());
    }

    [Theory]
    [InlineData("db/app/log", "?after=POSITION")]
    [InlineData("db/app/log?after=abc", "?after= must be a whole number (got 'abc')")]
    [InlineData("db/app/log?after=0&wait_ms=1e30", "?wait_ms= must be a whole number (got '1e30')")]
    [InlineData("db/app/log?after=0&replica=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "?replica= is a name of at most 256 characters (got 300)")]
    public async Task A_log_request_with_a_bad_position_is_400_naming_it(string path, string message)
    {
        var (status, body) = await SendRawAsync(HttpMethod.Get, path, null);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(message, body.GetProperty("error").GetProperty("message").GetString());
    }
}
