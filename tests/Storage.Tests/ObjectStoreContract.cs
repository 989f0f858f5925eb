using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace DataPlane.Storage.Tests;

/// <summary>
/// What every backend promises its callers. Each test gets a fresh, empty store (a new folder, or a new prefix in
/// the S3 test bucket), so tests neither see each other's keys nor depend on order.
/// </summary>
public abstract class ObjectStoreContract : IAsyncLifetime
{
    private const int MiB = 1024 * 1024;

    protected IObjectStore Store { get; private set; } = null!;

    protected abstract Task<IObjectStore> OpenFreshStoreAsync();

    public async Task InitializeAsync() => Store = await OpenFreshStoreAsync();

    public virtual Task DisposeAsync()
    {
        Store.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Put_then_get_returns_the_same_bytes_and_the_md5_etag()
    {
        var bytes = TestData.Bytes(300_000, seed: 1);
        var put = await Store.PutAsync("tables/t1/data/part-0.parquet", new MemoryStream(bytes));

        Assert.Equal(bytes.Length, put.Size);
        Assert.Equal(TestData.Md5Hex(bytes), put.ETag);
        Assert.Equal(bytes, await TestData.ReadAllAsync(await Store.GetAsync("tables/t1/data/part-0.parquet")));
    }

    [Fact]
    public async Task Put_new_stores_the_bytes_which_get_and_head_describe_with_the_md5_etag()
    {
        var bytes = TestData.Bytes(200_000, seed: 2);
        await Store.PutNewAsync("tables/t1/metadata/00001-a.metadata.json", bytes);

        var head = await Store.HeadAsync("tables/t1/metadata/00001-a.metadata.json");
        Assert.Equal(bytes.Length, head!.Size);
        Assert.Equal(TestData.Md5Hex(bytes), head.ETag);
        await using var body = await Store.GetAsync("tables/t1/metadata/00001-a.metadata.json");
        Assert.Equal(TestData.Md5Hex(bytes), body.Object.ETag);
        Assert.Equal(bytes, await TestData.ReadAllAsync(body));
        Assert.Equal(["tables/t1/metadata/00001-a.metadata.json"], await KeysAsync("tables/"));
    }

    [Fact]
    public async Task Put_replaces_an_existing_object()
    {
        await Store.PutAsync("k", new MemoryStream(Encoding.UTF8.GetBytes("first version")));
        await Store.PutAsync("k", new MemoryStream(Encoding.UTF8.GetBytes("second")));

        Assert.Equal("second", Encoding.UTF8.GetString(await TestData.ReadAllAsync(await Store.GetAsync("k"))));
        Assert.Equal(6, (await Store.HeadAsync("k"))!.Size);
    }

    [Fact]
    public async Task Empty_object_round_trips()
    {
        await Store.PutAsync("empty", new MemoryStream());

        Assert.Empty(await TestData.ReadAllAsync(await Store.GetAsync("empty")));
        Assert.Equal(0, (await Store.HeadAsync("empty"))!.Size);
    }

    [Theory]
    [InlineData(0, 10L)]
    [InlineData(12_345, 1_000L)]
    [InlineData(99_990, null)]
    [InlineData(99_000, 5_000L)] // runs past the end: clamped, as S3 does
    [InlineData(99_999, 1L)]
    public async Task Ranged_get_returns_exactly_the_requested_bytes(long offset, long? length)
    {
        var bytes = TestData.Bytes(100_000, seed: 2);
        await Store.PutAsync("ranged.bin", new MemoryStream(bytes));

        var read = await TestData.ReadAllAsync(await Store.GetAsync("ranged.bin", new ByteRange(offset, length)));

        var end = length is { } n ? Math.Min(offset + n, bytes.Length) : bytes.Length;
        Assert.Equal(bytes[(int)offset..(int)end], read);
    }

    [Fact]
    public async Task A_range_starting_past_the_end_is_refused()
    {
        await Store.PutAsync("short.bin", new MemoryStream(TestData.Bytes(1_000, seed: 13)));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.GetAsync("short.bin", new ByteRange(1_000, 10)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.GetAsync("short.bin", new ByteRange(-1, 10)));
    }

    [Fact]
    public async Task Head_reports_size_etag_last_modified_content_type_and_metadata()
    {
        var bytes = TestData.Bytes(4_321, seed: 3);
        var before = DateTimeOffset.UtcNow;
        await Store.PutAsync("meta/object.json", new MemoryStream(bytes), new PutOptions
        {
            ContentType = "application/json",
            Metadata = new Dictionary<string, string> { ["Snapshot-Id"] = "8744736658442914487", ["writer"] = "dataplane 1.0" },
        });

        var head = await Store.HeadAsync("meta/object.json");

        Assert.NotNull(head);
        Assert.Equal("meta/object.json", head.Key);
        Assert.Equal(bytes.Length, head.Size);
        Assert.Equal(TestData.Md5Hex(bytes), head.ETag);
        Assert.Equal("application/json", head.ContentType);
        // S3 keeps last-modified to the second; the window only checks it is this write's time, not a default.
        Assert.InRange(head.LastModified, before.AddMinutes(-2), DateTimeOffset.UtcNow.AddMinutes(2));
        Assert.NotNull(head.Metadata);
        Assert.Equal("8744736658442914487", head.Metadata["snapshot-id"]);
        Assert.Equal("dataplane 1.0", head.Metadata["writer"]);
        Assert.Equal(2, head.Metadata.Count);
    }

    [Fact]
    public async Task Get_returns_what_head_says_of_the_object_with_its_bytes()
    {
        var bytes = TestData.Bytes(5_000, seed: 30);
        await Store.PutAsync("with/headers.json", new MemoryStream(bytes), new PutOptions
        {
            ContentType = "application/json",
            Metadata = new Dictionary<string, string> { ["Origin"] = "contract" },
        });
        var head = await Store.HeadAsync("with/headers.json");

        await using var body = await Store.GetAsync("with/headers.json");

        Assert.Equal(bytes.Length, body.Length);
        Assert.Equal(head!.Size, body.Object.Size);
        Assert.Equal(TestData.Md5Hex(bytes), body.Object.ETag);
        Assert.Equal("application/json", body.Object.ContentType);
        Assert.Equal(head.LastModified, body.Object.LastModified);
        Assert.Equal(ObjectInfo.StandardStorageClass, body.Object.StorageClass);
        Assert.Equal("contract", Assert.Single(body.Object.Metadata!, kv => kv.Key == "origin").Value);
        Assert.Single(body.Object.Metadata!);
        Assert.Equal(bytes, await TestData.ReadAllAsync(body));
    }

    [Fact]
    public async Task A_ranged_get_describes_the_whole_object_and_holds_the_range()
    {
        var bytes = TestData.Bytes(10_000, seed: 31);
        await Store.PutAsync("ranged/headers.bin", new MemoryStream(bytes), new PutOptions { ContentType = "application/x-test" });

        await using var body = await Store.GetAsync("ranged/headers.bin", new ByteRange(1_000, 500));

        Assert.Equal(500, body.Length);
        Assert.Equal(bytes.Length, body.Object.Size);
        Assert.Equal(TestData.Md5Hex(bytes), body.Object.ETag);
        Assert.Equal("application/x-test", body.Object.ContentType);
        Assert.Equal(bytes[1_000..1_500], await TestData.ReadAllAsync(body));
    }

    [Fact]
    public async Task The_storage_class_is_kept_and_shown_by_head_get_and_listings()
    {
        await Store.PutAsync("classes/cold", new MemoryStream([1, 2, 3]), new PutOptions { StorageClass = "GLACIER" });
        await Store.PutAsync("classes/warm", new MemoryStream([4, 5, 6]));
        await using (var upload = await Store.StartMultipartUploadAsync("classes/cold-parts", new PutOptions { StorageClass = "DEEP_ARCHIVE" }))
        {
            await upload.UploadPartAsync(1, new MemoryStream([7]), 1);
            await upload.CompleteAsync();
        }

        Assert.Equal("GLACIER", (await Store.HeadAsync("classes/cold"))!.StorageClass);
        Assert.Equal(ObjectInfo.StandardStorageClass, (await Store.HeadAsync("classes/warm"))!.StorageClass);
        await using (var body = await Store.GetAsync("classes/cold"))
            Assert.Equal("GLACIER", body.Object.StorageClass);
        var listed = (await Store.ListPageAsync("classes/")).Objects.ToDictionary(o => o.Key, o => o.StorageClass);
        Assert.Equal(new Dictionary<string, string?>
        {
            ["classes/cold"] = "GLACIER", ["classes/cold-parts"] = "DEEP_ARCHIVE", ["classes/warm"] = ObjectInfo.StandardStorageClass,
        }, listed);
    }

    [Fact]
    public async Task An_invalid_storage_class_is_refused_before_anything_is_written()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync("k", new MemoryStream([1]), new PutOptions { StorageClass = "cold storage" }));
        Assert.Contains("'cold storage'", e.Message);
        Assert.Null(await Store.HeadAsync("k"));
    }

    /// <summary>Whether this backend tells the part layout of multipart objects (s3rver does not).</summary>
    protected virtual bool ReportsPartLayouts => true;

    [Fact]
    public async Task A_multipart_object_tells_its_part_layout_and_a_single_put_none()
    {
        var bytes = TestData.Bytes(12 * MiB + 3, seed: 32);
        const int partSize = 5 * MiB;
        await using (var upload = await Store.StartMultipartUploadAsync("layout/parts.bin"))
        {
            for (var n = 1; (n - 1) * partSize < bytes.Length; n++)
            {
                var offset = (n - 1) * partSize;
                var length = Math.Min(partSize, bytes.Length - offset);
                await upload.UploadPartAsync(n, new MemoryStream(bytes, offset, length), length);
            }
            await upload.CompleteAsync();
        }
        await Store.PutAsync("layout/single.bin", new MemoryStream(bytes, 0, 1_000));

        var layout = await Store.GetPartLayoutAsync("layout/parts.bin");
        if (ReportsPartLayouts) Assert.Equal(new PartLayout(3, partSize), layout);
        else Assert.Null(layout);
        Assert.Null(await Store.GetPartLayoutAsync("layout/single.bin"));
        Assert.Null(await Store.GetPartLayoutAsync("layout/absent.bin"));
    }

    [Fact]
    public async Task With_a_content_length_a_stream_that_cannot_seek_is_stored_as_it_is_read()
    {
        var bytes = TestData.Bytes(3 * MiB + 17, seed: 33);

        var put = await Store.PutAsync("streamed/known-length.bin", new OneWayStream(bytes), new PutOptions { ContentLength = bytes.Length, ContentType = "text/plain" });

        Assert.Equal(bytes.Length, put.Size);
        Assert.Equal(TestData.Md5Hex(bytes), put.ETag);
        Assert.Equal("text/plain", (await Store.HeadAsync("streamed/known-length.bin"))!.ContentType);
        await AssertContentAsync("streamed/known-length.bin", bytes);
    }

    [Theory]
    [InlineData(1_000, 999)]
    [InlineData(1_000, 1_001)]
    [InlineData(0, 1)]
    public async Task Content_that_does_not_match_its_content_length_is_refused_and_not_stored(int announced, int actual)
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() =>
            Store.PutAsync("streamed/wrong-length.bin", new OneWayStream(TestData.Bytes(actual, seed: 34)), new PutOptions { ContentLength = announced }));

        Assert.Contains("streamed/wrong-length.bin", e.Message);
        Assert.Null(await Store.HeadAsync("streamed/wrong-length.bin"));
    }

    [Fact]
    public async Task Absent_keys_are_null_on_head_and_not_found_on_get()
    {
        Assert.Null(await Store.HeadAsync("no/such/key"));
        var e = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetAsync("no/such/key"));
        Assert.Equal("no/such/key", e.Key);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetAsync("no/such/key", new ByteRange(0, 10)));
    }

    [Fact]
    public async Task Delete_removes_the_object_and_deleting_an_absent_key_is_not_an_error()
    {
        await Store.PutAsync("d/one", new MemoryStream([1, 2, 3]));
        await Store.PutAsync("d/two", new MemoryStream([4]));

        await Store.DeleteAsync("d/one");
        await Store.DeleteAsync("d/never-existed");

        Assert.Null(await Store.HeadAsync("d/one"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetAsync("d/one"));
        Assert.Equal(["d/two"], await KeysAsync(""));
    }

    [Fact]
    public async Task List_returns_keys_in_utf8_byte_order()
    {
        string[] keys = ["b", "a/b", "a-b", "a0", "a/a/z", "ab", "A", "über", "zz", "a.b", "é/x"];
        await PutAllAsync(keys);

        var expected = keys.ToList();
        expected.Sort(TestData.Utf8Order);
        Assert.Equal(expected, await KeysAsync(""));
    }

    [Fact]
    public async Task List_by_prefix_returns_only_keys_under_it()
    {
        await PutAllAsync(["logs/2024/a", "logs/2024/b", "logs-old/x", "logs/2025/c", "log", "other/logs/d"]);

        Assert.Equal(["logs/2024/a", "logs/2024/b", "logs/2025/c"], await KeysAsync("logs/"));
        Assert.Equal(["logs/2024/a", "logs/2024/b"], await KeysAsync("logs/2024"));
        Assert.Equal(["log", "logs-old/x", "logs/2024/a", "logs/2024/b", "logs/2025/c"], await KeysAsync("log"));
        Assert.Empty(await KeysAsync("nothing/"));
    }

    [Fact]
    public async Task List_pages_follow_each_other_through_next_start_after()
    {
        var keys = Enumerable.Range(0, 25).Select(i => $"p/{i:D3}").ToArray();
        await PutAllAsync(keys);

        var seen = new List<string>();
        string? after = null;
        var pages = 0;
        do
        {
            var page = await Store.ListPageAsync("p/", after, maxKeys: 10);
            pages++;
            Assert.True(page.Objects.Count <= 10);
            seen.AddRange(page.Objects.Select(o => o.Key));
            after = page.NextStartAfter;
            Assert.Equal(after is not null, page.IsTruncated);
        } while (after is not null);

        Assert.Equal(3, pages);
        Assert.Equal(keys, seen);
    }

    [Fact]
    public async Task List_start_after_skips_keys_up_to_and_including_it()
    {
        var keys = Enumerable.Range(0, 10).Select(i => $"s/{i}").ToArray();
        await PutAllAsync(keys);

        var page = await Store.ListPageAsync("s/", startAfter: "s/4");
        Assert.Equal(keys[5..], page.Objects.Select(o => o.Key));
        Assert.Null(page.NextStartAfter);

        // start-after need not be a key that exists
        var between = await Store.ListPageAsync("s/", startAfter: "s/45");
        Assert.Equal(keys[5..], between.Objects.Select(o => o.Key));
    }

    [Fact]
    public async Task List_with_delimiter_rolls_keys_up_into_common_prefixes()
    {
        await PutAllAsync(["logs/2024/01/a", "logs/2024/02/b", "logs/2025/c", "logs/top", "logs/zeta/d", "other"]);

        var page = await Store.ListPageAsync("logs/", delimiter: "/");

        Assert.Equal(["logs/top"], page.Objects.Select(o => o.Key));
        Assert.Equal(["logs/2024/", "logs/2025/", "logs/zeta/"], page.CommonPrefixes);
        Assert.Null(page.NextStartAfter);

        var top = await Store.ListPageAsync("", delimiter: "/");
        Assert.Equal(["other"], top.Objects.Select(o => o.Key));
        Assert.Equal(["logs/"], top.CommonPrefixes);
    }

    [Fact]
    public async Task List_with_delimiter_pages_through_common_prefixes_without_repeating_them()
    {
        await PutAllAsync(["logs/2024/01/a", "logs/2024/02/b", "logs/2025/c", "logs/top", "logs/zeta/d"]);

        var entries = new List<string>();
        string? after = null;
        do
        {
            var page = await Store.ListPageAsync("logs/", after, maxKeys: 1, delimiter: "/");
            Assert.Equal(1, page.Objects.Count + page.CommonPrefixes.Count);
            entries.AddRange(page.CommonPrefixes);
            entries.AddRange(page.Objects.Select(o => o.Key));
            after = page.NextStartAfter;
        } while (after is not null);

        Assert.Equal(["logs/2024/", "logs/2025/", "logs/top", "logs/zeta/"], entries);
    }

    [Fact]
    public async Task Listing_more_than_1000_keys_pages_through_all_of_them()
    {
        var keys = Enumerable.Range(0, 1_234).Select(i => $"many/{i:D5}").ToArray();
        await PutAllAsync(keys, parallelism: 16);

        var first = await Store.ListPageAsync("many/");
        Assert.Equal(1_000, first.Objects.Count);
        Assert.Equal("many/00999", first.NextStartAfter);

        var all = new List<ObjectInfo>();
        await foreach (var o in Store.ListAsync("many/"))
            all.Add(o);
        Assert.Equal(keys, all.Select(o => o.Key));
        Assert.All(all, o => Assert.Equal(o.Key.Length, o.Size));
    }

    [Fact]
    public async Task Listings_show_no_temp_or_metadata_files()
    {
        await Store.PutAsync("visible", new MemoryStream([1]), new PutOptions { Metadata = new Dictionary<string, string> { ["m"] = "v" } });
        await using var pending = await Store.OpenWriteAsync("pending");
        await pending.WriteAsync(TestData.Bytes(1000, seed: 4));
        await using var upload = await Store.StartMultipartUploadAsync("uploading");
        await upload.UploadPartAsync(1, new MemoryStream(TestData.Bytes(1000, seed: 5)), 1000);

        Assert.Equal(["visible"], await KeysAsync(""));
        var root = await Store.ListPageAsync("", delimiter: "/");
        Assert.Equal(["visible"], root.Objects.Select(o => o.Key));
        Assert.Empty(root.CommonPrefixes);
    }

    [Fact]
    public async Task A_20_MB_multipart_upload_with_parallel_parts_reads_back_identical()
    {
        var bytes = TestData.Bytes(20 * MiB + 12_345, seed: 6);
        const int partSize = 5 * MiB;
        await using var upload = await Store.StartMultipartUploadAsync("big/multipart.bin", new PutOptions { ContentType = "application/octet-stream" });

        var partCount = (bytes.Length + partSize - 1) / partSize;
        // Out of order and concurrently, as a parallel copier sends them.
        await Task.WhenAll(Enumerable.Range(1, partCount).Reverse().Select(n => Task.Run(async () =>
        {
            var offset = (n - 1) * partSize;
            var length = Math.Min(partSize, bytes.Length - offset);
            var etag = await upload.UploadPartAsync(n, new MemoryStream(bytes, offset, length), length);
            Assert.False(string.IsNullOrEmpty(etag));
        })));
        Assert.Null(await Store.HeadAsync("big/multipart.bin")); // not visible before completion
        var info = await upload.CompleteAsync();

        Assert.Equal(bytes.Length, info.Size);
        Assert.Equal(bytes.Length, (await Store.HeadAsync("big/multipart.bin"))!.Size);
        await AssertContentAsync("big/multipart.bin", bytes);
    }

    [Fact]
    public async Task Aborted_multipart_upload_leaves_no_object()
    {
        var upload = await Store.StartMultipartUploadAsync("aborted");
        await upload.UploadPartAsync(1, new MemoryStream(TestData.Bytes(1000, seed: 7)), 1000);
        await upload.AbortAsync();
        await upload.DisposeAsync();

        Assert.Null(await Store.HeadAsync("aborted"));
        Assert.Empty(await KeysAsync(""));
    }

    [Fact]
    public async Task A_multipart_upload_refuses_part_numbers_outside_1_to_10000_no_parts_and_use_after_it_ends()
    {
        await using (var empty = await Store.StartMultipartUploadAsync("rules/empty"))
        {
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => empty.UploadPartAsync(0, new MemoryStream([1]), 1));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => empty.UploadPartAsync(10_001, new MemoryStream([1]), 1));
            var none = await Assert.ThrowsAsync<InvalidOperationException>(() => empty.CompleteAsync());
            Assert.Equal("The multipart upload of 'rules/empty' has no parts; upload at least one before completing.", none.Message);
        }
        Assert.Null(await Store.HeadAsync("rules/empty"));

        await using var upload = await Store.StartMultipartUploadAsync("rules/once");
        await upload.UploadPartAsync(1, new MemoryStream([1, 2, 3]), 3);
        await upload.CompleteAsync();
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => upload.CompleteAsync());
        Assert.Equal("The multipart upload of 'rules/once' is already completed or aborted.", again.Message);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => upload.UploadPartAsync(2, new MemoryStream([4]), 1));
        await upload.AbortAsync(); // once completed there is nothing to discard: the object stays
        Assert.Equal(3, (await Store.HeadAsync("rules/once"))!.Size);
    }

    [Fact]
    public async Task A_20_MB_object_written_through_open_write_reads_back_identical()
    {
        var bytes = TestData.Bytes(20 * MiB + 777, seed: 8);
        var options = new PutOptions { PartSize = 5 * MiB, ContentType = "application/vnd.apache.parquet", Metadata = new Dictionary<string, string> { ["rows"] = "42" } };
        await using (var write = await Store.OpenWriteAsync("big/streamed.parquet", options))
        {
            // Odd-sized writes, as an encoder produces them, crossing part boundaries.
            for (var offset = 0; offset < bytes.Length; offset += 1_000_003)
                await write.WriteAsync(bytes.AsMemory(offset, Math.Min(1_000_003, bytes.Length - offset)));
            Assert.Null(await Store.HeadAsync("big/streamed.parquet"));
            var info = await write.CompleteAsync();
            Assert.Equal(bytes.Length, info.Size);
        }

        var head = await Store.HeadAsync("big/streamed.parquet");
        Assert.Equal(bytes.Length, head!.Size);
        Assert.Equal("application/vnd.apache.parquet", head.ContentType);
        Assert.Equal("42", head.Metadata!["rows"]);
        await AssertContentAsync("big/streamed.parquet", bytes);
    }

    [Fact]
    public async Task A_small_open_write_is_one_object_with_the_md5_etag()
    {
        var bytes = TestData.Bytes(10_000, seed: 9);
        await using (var write = await Store.OpenWriteAsync("small.bin"))
        {
            write.Write(bytes, 0, 4_000);
            await write.WriteAsync(bytes.AsMemory(4_000));
            await write.CompleteAsync();
        }

        Assert.Equal(TestData.Md5Hex(bytes), (await Store.HeadAsync("small.bin"))!.ETag);
        await AssertContentAsync("small.bin", bytes);
    }

    [Fact]
    public async Task An_abandoned_open_write_leaves_no_object()
    {
        await using (var write = await Store.OpenWriteAsync("abandoned.bin", new PutOptions { PartSize = 5 * MiB }))
        {
            // Past one part, so a multipart upload is under way on S3 when the writer gives up.
            await write.WriteAsync(TestData.Bytes(6 * MiB, seed: 10));
        }

        Assert.Null(await Store.HeadAsync("abandoned.bin"));
        Assert.Empty(await KeysAsync(""));
    }

    public static TheoryData<string> EscapingKeys => new()
    {
        "../../etc/passwd", "..", "a/../../b", "a/..", "./a", "/etc/passwd", "/", "a\\..\\..\\b", "..\\x", "a\0b", "", "a//b", "a/", "C:/Windows", "line\nbreak",
    };

    [Theory]
    [MemberData(nameof(EscapingKeys))]
    public async Task Keys_that_escape_the_root_are_refused_by_every_operation(string key)
    {
        async Task Refused(Func<Task> operation)
        {
            var e = await Assert.ThrowsAsync<InvalidObjectKeyException>(operation);
            Assert.Equal(key, e.Key);
            Assert.Contains(key.Replace("\0", "\\0"), e.Message);
        }

        await Refused(() => Store.PutAsync(key, new MemoryStream([1])));
        await Refused(() => Store.GetAsync(key));
        await Refused(() => Store.HeadAsync(key));
        await Refused(() => Store.DeleteAsync(key));
        await Refused(() => Store.OpenWriteAsync(key));
        await Refused(() => Store.StartMultipartUploadAsync(key));
        Assert.Empty(await KeysAsync(""));
    }

    [Theory]
    [InlineData("../")]
    [InlineData("a/../")]
    [InlineData("/abs")]
    public async Task Listing_prefixes_that_escape_the_root_are_refused(string prefix)
    {
        var e = await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.ListPageAsync(prefix));
        Assert.Equal(prefix, e.Key);
    }

    protected async Task PutAllAsync(IEnumerable<string> keys, int parallelism = 8) =>
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (key, ct) =>
            await Store.PutAsync(key, new MemoryStream(Encoding.UTF8.GetBytes(key)), cancellationToken: ct));

    protected async Task<List<string>> KeysAsync(string prefix)
    {
        var keys = new List<string>();
        await foreach (var o in Store.ListAsync(prefix))
            keys.Add(o.Key);
        return keys;
    }

    private async Task AssertContentAsync(string key, byte[] expected)
    {
        // Hash while streaming: a byte-by-byte comparison of 20 MB arrays would swamp a failure message.
        await using var stream = await Store.GetAsync(key);
        var actual = await SHA256.HashDataAsync(stream);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(expected)), Convert.ToHexString(actual));
    }

    /// <summary>A stream that can only be read forward, as a network body is.</summary>
    private sealed class OneWayStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes, writable: false);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
