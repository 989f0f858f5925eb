using System.Diagnostics;
using System.Text.Json;
using Apache.Arrow;

namespace DataPlane.Pipelines.Lookups;

/// <summary>
/// The tables one pipeline's lookup joins read, as it runs: each table's rows in hand (what the joins match against),
/// loaded when a run starts and checked for a new version at most every <see cref="PipelinesOptions.LookupRefreshSeconds"/>
/// before a batch. A batch waits for a reload at most <see cref="PipelinesOptions.LookupWaitSeconds"/>; past that it
/// goes on with the rows in hand and the reload finishes in the background for a later batch. Nothing of it is in a
/// checkpoint: after a restart the tables are read again as they are then.
/// </summary>
internal sealed class LookupTables(IReadOnlyList<(ILookupSource Source, Schema Schema)> tables, TimeSpan interval, TimeSpan wait)
{
    private readonly Entry[] _entries = tables.Select(t => new Entry(t.Source, t.Schema)).ToArray();

    /// <summary>The rows in hand of the table a lookup join names (what the SQL execution asks for before each batch).</summary>
    public RecordBatch Rows(string name)
    {
        foreach (var entry in _entries)
            if (entry.Source.Name == name)
                return entry.Loaded?.Rows ?? throw new InvalidOperationException($"Lookup table '{name}' is not loaded yet.");
        throw new KeyNotFoundException($"No lookup table '{name}' in this pipeline.");
    }

    /// <summary>Every table read now, waited for: a run starts with the tables as they are (a failure fails the run, which retries).</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        foreach (var entry in _entries)
        {
            entry.Pending = null;
            entry.Loaded = await entry.Source.LoadIfChangedAsync(entry.Schema, null, cancellationToken);
            entry.CheckedAt = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Before a batch: starts the checks that are due, and takes what they found, waiting at most the bounded time.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        foreach (var entry in _entries)
        {
            if (entry.Pending is null && Stopwatch.GetElapsedTime(entry.CheckedAt) >= interval)
            {
                entry.CheckedAt = Stopwatch.GetTimestamp();
                entry.Pending = entry.Source.LoadIfChangedAsync(entry.Schema, entry.Loaded?.Version, cancellationToken);
            }
            if (entry.Pending is not { } pending)
                continue;
            if (!pending.IsCompleted)
                await Task.WhenAny(pending, Task.Delay(wait, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
            if (!pending.IsCompleted)
                continue; // the batch goes on with the rows in hand
            entry.Pending = null;
            entry.CheckedAt = Stopwatch.GetTimestamp();
            // A failed reload fails the run: it restarts from the last commit and reads the table again.
            if (await pending is { } loaded)
                entry.Loaded = loaded;
        }
    }

    /// <summary>"lookups": each table's version in hand, its rows, where they were read and when (GET /api/v1/pipelines/{name}).</summary>
    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartArray("lookups");
        foreach (var entry in _entries)
        {
            var loaded = entry.Loaded;
            w.WriteStartObject();
            w.WriteString("table", entry.Source.Name);
            if (loaded is null)
            {
                w.WriteNull("version");
                w.WriteEndObject();
                continue;
            }
            w.WriteString("version", loaded.Version);
            w.WriteNumber("rows", loaded.Rows.Length);
            w.WriteString("served_by", loaded.ServedBy);
            w.WriteString("loaded_at", loaded.LoadedAt);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private sealed class Entry(ILookupSource source, Schema schema)
    {
        public ILookupSource Source { get; } = source;
        public Schema Schema { get; } = schema;
        /// <summary>Swapped whole by the run (a reference: atomic), read by the API.</summary>
        public LookupLoad? Loaded { get; set; }
        public long CheckedAt { get; set; }
        public Task<LookupLoad?>? Pending { get; set; }
    }
}
