using System.Security.Cryptography;
using System.Text;
using DataPlane.Storage.Local;
using Xunit;

namespace DataPlane.Storage.Tests;

public sealed class LocalFolderStoreTests : ObjectStoreContract
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "dataplane-storage-tests", Guid.NewGuid().ToString("N"), "warehouse");

    protected override Task<IObjectStore> OpenFreshStoreAsync() => Task.FromResult(ObjectStore.Open(_root));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(_root)!, recursive: true);
    }

    [Fact]
    public async Task Symbolic_links_are_reported_as_skipped_never_followed_and_page_like_keys()
    {
        await Store.PutAsync("a.txt", new MemoryStream("a"u8.ToArray()));
        await Store.PutAsync("dir/b.txt", new MemoryStream("b"u8.ToArray()));
        var outside = Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(_root)!, "outside")).FullName;
        File.WriteAllText(Path.Combine(outside, "secret"), "s");
        File.CreateSymbolicLink(Path.Combine(_root, "file-link"), Path.Combine(outside, "secret"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "dir", "folder-link"), outside);
        File.CreateSymbolicLink(Path.Combine(_root, "dangling"), Path.Combine(outside, "none"));

        var keys = new List<string>();
        var skipped = new List<string>();
        string? startAfter = null;
        do
        {
            var page = await Store.ListPageAsync("", startAfter, maxKeys: 1);
            Assert.Equal(1, page.Objects.Count + page.Skipped.Count + page.CommonPrefixes.Count);
            keys.AddRange(page.Objects.Select(o => o.Key));
            skipped.AddRange(page.Skipped.Select(s => s.Key));
            startAfter = page.NextStartAfter;
        } while (startAfter is not null);
        var rolledUp = await Store.ListPageAsync("", delimiter: "/");
        var underLink = await Store.ListPageAsync("dir/folder-link/");

        Assert.Equal(["a.txt", "dir/b.txt"], keys);
        Assert.Equal(["dangling", "dir/folder-link/", "file-link"], skipped);
        Assert.Equal(["dir/"], rolledUp.CommonPrefixes);
        Assert.Equal(["dangling", "file-link"], rolledUp.Skipped.Select(s => s.Key));
        Assert.Contains("which does not exist", rolledUp.Skipped[0].Reason);
        Assert.Empty(underLink.Objects);
        Assert.Empty(underLink.Skipped);
    }

    [Fact]
    public async Task Put_if_absent_under_a_real_race_has_exactly_one_winner_whose_bytes_are_intact()
    {
        const int writers = 24;
        var contents = Enumerable.Range(0, writers).Select(i => TestData.Bytes(256 * 1024, seed: 100 + i)).ToArray();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = Enumerable.Range(0, writers).Select(i => Task.Run(async () =>
        {
            await start.Task;
            try
            {
                await Store.PutIfAbsentAsync("tables/t/metadata/v2.metadata.json", new MemoryStream(contents[i]));
                return i;
            }
            catch (ObjectAlreadyExistsException e)
            {
                Assert.Equal("tables/t/metadata/v2.metadata.json", e.Key);
                return -1;
            }
        })).ToArray();
        start.SetResult();
        var outcomes = await Task.WhenAll(attempts);

        var winner = Assert.Single(outcomes, o => o >= 0);
        var stored = await TestData.ReadAllAsync(await Store.GetAsync("tables/t/metadata/v2.metadata.json"));
        Assert.Equal(contents[winner], stored);
        Assert.Equal(TestData.Md5Hex(contents[winner]), (await Store.HeadAsync("tables/t/metadata/v2.metadata.json"))!.ETag);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, LocalFolderStore.ReservedName, "tmp"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Put_if_absent_on_an_existing_key_keeps_the_first_object()
    {
        Assert.True(Store.SupportsPutIfAbsent);
        await Store.PutIfAbsentAsync("once", new MemoryStream("first"u8.ToArray()));

        await Assert.ThrowsAsync<ObjectAlreadyExistsException>(() => Store.PutIfAbsentAsync("once", new MemoryStream("second"u8.ToArray())));
        Assert.Equal("first", Encoding.UTF8.GetString(await TestData.ReadAllAsync(await Store.GetAsync("once"))));
    }

    [Fact]
    public async Task Put_new_refuses_an_existing_key_and_keeps_its_bytes()
    {
        await Store.PutAsync("t/metadata/00001-a.metadata.json", new MemoryStream("first"u8.ToArray()));
        await Store.PutNewAsync("t/metadata/00002-b.metadata.json", "second"u8.ToArray());

        var e = await Assert.ThrowsAsync<ObjectAlreadyExistsException>(() => Store.PutNewAsync("t/metadata/00001-a.metadata.json", "other"u8.ToArray()));
        Assert.Equal("t/metadata/00001-a.metadata.json", e.Key);
        await Assert.ThrowsAsync<ObjectAlreadyExistsException>(() => Store.PutNewAsync("t/metadata/00002-b.metadata.json", "other"u8.ToArray()));
        Assert.Equal("first", Encoding.UTF8.GetString(await TestData.ReadAllAsync(await Store.GetAsync("t/metadata/00001-a.metadata.json"))));
        Assert.Equal("second", Encoding.UTF8.GetString(await TestData.ReadAllAsync(await Store.GetAsync("t/metadata/00002-b.metadata.json"))));
    }

    [Fact]
    public async Task Put_new_under_a_real_race_has_exactly_one_winner_whose_bytes_are_intact()
    {
        const int writers = 16;
        var contents = Enumerable.Range(0, writers).Select(i => TestData.Bytes(128 * 1024, seed: 200 + i)).ToArray();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = Enumerable.Range(0, writers).Select(i => Task.Run(async () =>
        {
            await start.Task;
            try
            {
                await Store.PutNewAsync("t/metadata/00003-c.metadata.json", contents[i]);
                return i;
            }
            catch (ObjectAlreadyExistsException)
            {
                return -1;
            }
        })).ToArray();
        start.SetResult();
        var outcomes = await Task.WhenAll(attempts);

        var winner = Assert.Single(outcomes, o => o >= 0);
        Assert.Equal(contents[winner], await TestData.ReadAllAsync(await Store.GetAsync("t/metadata/00003-c.metadata.json")));
    }

    [Fact]
    public async Task Put_new_writes_one_plain_file_and_nothing_beside_it()
    {
        // Nothing to lose in a crash but the file itself: no temp file to leak, no sidecar to go out of step with it.
        var bytes = TestData.Bytes(10_000, seed: 14);
        await Store.PutNewAsync("db/t/metadata/00000-x.metadata.json", bytes);

        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(_root, "db", "t", "metadata", "00000-x.metadata.json")));
        var reserved = Path.Combine(_root, LocalFolderStore.ReservedName);
        Assert.Empty(Directory.Exists(reserved) ? Directory.EnumerateFiles(reserved, "*", SearchOption.AllDirectories) : []);
    }

    [Fact]
    public async Task Put_new_refuses_a_key_that_is_a_folder_of_other_keys()
    {
        await Store.PutAsync("u/x/y", new MemoryStream([2]));

        var e = await Assert.ThrowsAsync<IOException>(() => Store.PutNewAsync("u/x", new byte[] { 4 }));
        Assert.Contains("'u/x'", e.Message);
        Assert.Equal(["u/x/y"], await KeysAsync(""));
    }

    [Fact]
    public async Task Objects_are_plain_files_under_the_root()
    {
        var bytes = TestData.Bytes(1000, seed: 11);
        await Store.PutAsync("db/t/data/00000-0.parquet", new MemoryStream(bytes));

        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(_root, "db", "t", "data", "00000-0.parquet")));
    }

    [Fact]
    public async Task Escaping_keys_write_nothing_outside_the_root()
    {
        var outside = Path.Combine(Path.GetDirectoryName(_root)!, "escaped");
        await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.PutAsync("../escaped", new MemoryStream([1])));
        Assert.False(File.Exists(outside));
        Assert.Equal(["warehouse"], Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(_root)!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task The_reserved_folder_cannot_be_addressed_as_a_key()
    {
        var e = await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.PutAsync(".dataplane/meta/x.json", new MemoryStream([1])));
        Assert.Contains("reserved", e.Message);
    }

    [Fact]
    public async Task A_key_and_a_folder_of_the_same_name_conflict_with_a_clear_error()
    {
        await Store.PutAsync("t/data", new MemoryStream([1]));
        await Store.PutAsync("u/x/y", new MemoryStream([2]));

        var underFile = await Assert.ThrowsAsync<IOException>(() => Store.PutAsync("t/data/part-0", new MemoryStream([3])));
        Assert.Contains("t/data/part-0", underFile.Message);
        var overFolder = await Assert.ThrowsAsync<IOException>(() => Store.PutAsync("u/x", new MemoryStream([4])));
        Assert.Contains("'u/x'", overFolder.Message);
        await Assert.ThrowsAsync<IOException>(() => Store.PutIfAbsentAsync("u/x", new MemoryStream([4])));
        Assert.Equal(["t/data", "u/x/y"], await KeysAsync(""));
    }

    [Fact]
    public async Task Keys_whose_names_look_like_sidecars_keep_their_own_metadata()
    {
        var json = new PutOptions { ContentType = "application/json" };
        await Store.PutAsync("x", new MemoryStream([1]), new PutOptions { ContentType = "text/plain" });
        await Store.PutAsync("x.json/y", new MemoryStream([2]), json);
        await Store.PutAsync("x.d", new MemoryStream([3]), json);

        Assert.Equal("text/plain", (await Store.HeadAsync("x"))!.ContentType);
        Assert.Equal("application/json", (await Store.HeadAsync("x.json/y"))!.ContentType);
        Assert.Equal("application/json", (await Store.HeadAsync("x.d"))!.ContentType);
    }

    [Fact]
    public async Task Head_of_a_file_copied_in_by_hand_computes_its_md5()
    {
        var bytes = TestData.Bytes(5000, seed: 12);
        Directory.CreateDirectory(Path.Combine(_root, "imported"));
        await File.WriteAllBytesAsync(Path.Combine(_root, "imported", "file.csv"), bytes);

        var head = await Store.HeadAsync("imported/file.csv");

        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(bytes)), head!.ETag);
        Assert.Equal(bytes.Length, head.Size);
        Assert.Equal(["imported/file.csv"], await KeysAsync(""));
    }

    [Fact]
    public async Task An_object_whose_sidecar_was_lost_in_a_crash_keeps_its_etag_and_size()
    {
        // Plain puts do not fsync their sidecar (nothing in it is more than the file gives back); losing it must not
        // lose anything a reader sees.
        var bytes = TestData.Bytes(70_000, seed: 13);
        var put = await Store.PutAsync("t/metadata/00001-x.metadata.json", new MemoryStream(bytes));
        foreach (var sidecar in Directory.GetFiles(Path.Combine(_root, LocalFolderStore.ReservedName, "meta"), "*.json", SearchOption.AllDirectories))
            File.Delete(sidecar);

        var head = await Store.HeadAsync("t/metadata/00001-x.metadata.json");
        await using var body = await Store.GetAsync("t/metadata/00001-x.metadata.json");
        using var read = new MemoryStream();
        await body.CopyToAsync(read);

        Assert.Equal(put.ETag, head!.ETag);
        Assert.Equal(put.Size, head.Size);
        Assert.Equal(bytes, read.ToArray());
    }

    [Fact]
    public async Task Deleting_the_last_object_of_a_folder_removes_the_empty_folder()
    {
        await Store.PutAsync("x/y/z", new MemoryStream([1]));
        await Store.DeleteAsync("x/y/z");

        Assert.False(Directory.Exists(Path.Combine(_root, "x")));
        Assert.Empty((await Store.ListPageAsync("", delimiter: "/")).CommonPrefixes);
    }

    [Theory]
    [InlineData("file:///tmp/dataplane-open-test/a")]
    [InlineData("/tmp/dataplane-open-test/b")]
    [InlineData("relative-open-test")]
    public void Open_reads_paths_and_file_uris_as_local_folders(string location)
    {
        using var store = ObjectStore.Open(location);
        Assert.IsType<LocalFolderStore>(store);
        Assert.True(store.Location.IsFile);
        Directory.Delete(store.Location.LocalPath, recursive: true);
    }

    [Theory]
    [InlineData("http://example.com/bucket")]
    [InlineData("gs://bucket/prefix")]
    [InlineData("file://somehost/share")]
    public void Open_refuses_unknown_locations_naming_them(string location)
    {
        var e = Assert.Throws<ArgumentException>(() => ObjectStore.Open(location));
        Assert.Contains(location, e.Message);
    }
}
