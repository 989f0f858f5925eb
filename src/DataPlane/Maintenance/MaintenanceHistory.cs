using System.Text;
using System.Text.Json;

namespace DataPlane.Maintenance;

/// <summary>
/// The finished runs of every table, newest last, at most <c>perTable</c> each: in memory, and one JSON line per run in
/// <c>&lt;data&gt;/maintenance/history.jsonl</c> so that a restart keeps them (and knows when each job last ran). The file
/// is rewritten with only what is kept once it holds several times more; a damaged line is skipped.
/// </summary>
internal sealed class MaintenanceHistory
{
    private readonly string _path;
    private readonly int _perTable;
    private readonly object _gate = new();
    private readonly Dictionary<string, List<MaintenanceRun>> _runs = new(StringComparer.Ordinal);
    private int _lines;

    public MaintenanceHistory(string directory, int perTable)
    {
        Directory.CreateDirectory(directory);
        _path = Path.Combine(directory, "history.jsonl");
        _perTable = perTable;
        if (!File.Exists(_path)) return;
        foreach (var line in File.ReadLines(_path))
        {
            _lines++;
            try
            {
                using var doc = JsonDocument.Parse(line);
                Keep(MaintenanceRun.Read(doc.RootElement));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException or FormatException)
            {
                // A line cut by a crash mid-write, or damaged: that run is forgotten, the others are kept.
            }
        }
    }

    public void Add(MaintenanceRun run)
    {
        lock (_gate)
        {
            Keep(run);
            var tables = Math.Max(1, _runs.Count);
            if (++_lines > 4 * _perTable * tables + 1000)
            {
                var temp = _path + ".tmp";
                File.WriteAllLines(temp, _runs.Values.SelectMany(r => r).OrderBy(r => r.FinishedAt).Select(Line), Encoding.UTF8);
                File.Move(temp, _path, overwrite: true);
                _lines = _runs.Values.Sum(r => r.Count);
            }
            else
                File.AppendAllText(_path, Line(run) + "\n", Encoding.UTF8);
        }
    }

    /// <summary>The table's finished runs, newest first.</summary>
    public IReadOnlyList<MaintenanceRun> For(string table)
    {
        lock (_gate)
            return _runs.TryGetValue(table, out var runs) ? runs.AsEnumerable().Reverse().ToList() : [];
    }

    /// <summary>When the job last finished on the table (dry runs aside).</summary>
    public DateTimeOffset? LastFinished(string table, MaintenanceJob job) =>
        For(table).FirstOrDefault(r => r.Request.Job == job && !r.Request.DryRun)?.FinishedAt;

    /// <summary>
    /// Every table's newest finished run of each job and outcome (for the metrics): a "nothing-to-do" check after a
    /// compaction must not hide when the table was last compacted, which is what an alert watches.
    /// </summary>
    public IReadOnlyList<MaintenanceRun> Latest()
    {
        lock (_gate)
            return _runs.Values.SelectMany(runs => runs.Where(r => !r.Request.DryRun).GroupBy(r => (r.Request.Job, r.Outcome!.Outcome)).Select(g => g.Last())).ToList();
    }

    private void Keep(MaintenanceRun run)
    {
        if (!_runs.TryGetValue(run.Table, out var runs)) _runs[run.Table] = runs = [];
        runs.Add(run);
        if (runs.Count > _perTable) runs.RemoveRange(0, runs.Count - _perTable);
    }

    private static string Line(MaintenanceRun run)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
            run.Write(w);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
