using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Operators;

namespace DataPlane.SqlTransforms;

/// <summary>
/// A running instance of a program's operators. The caller pushes each source's batches (one thread at a time);
/// results go to the output given at <see cref="SqlProgram.Start"/>. Records that fail to evaluate are dropped and
/// counted in <see cref="Errors"/>, which another thread may read.
/// </summary>
public sealed class SqlExecution
{
    private readonly Dictionary<string, List<Operator>> _scans;
    private readonly List<Operator> _oneRows;
    private readonly IReadOnlyDictionary<string, Schema> _sources;
    private bool _started;

    internal SqlExecution(Dictionary<string, List<Operator>> scans, List<Operator> oneRows, RowErrorLog errors, IReadOnlyDictionary<string, Schema> sources)
    {
        _scans = scans;
        _oneRows = oneRows;
        _sources = sources;
        Errors = errors;
    }

    public RowErrorLog Errors { get; }

    /// <summary>One batch of <paramref name="source"/>'s records, in its schema.</summary>
    public void Push(string source, RecordBatch batch)
    {
        StartOnce();
        if (!_sources.ContainsKey(source))
            throw new ArgumentException($"The program has no source \"{source}\".", nameof(source));
        if (_scans.TryGetValue(source, out var scans))
            foreach (var scan in scans) scan.Push(batch);
    }

    /// <summary>The end of bounded input: aggregates and sorts emit their rows.</summary>
    public void Finish()
    {
        StartOnce();
        foreach (var scans in _scans.Values)
            foreach (var scan in scans) scan.Finish();
        foreach (var one in _oneRows) one.Finish();
    }

    /// <summary>Queries without FROM produce their one row before anything else.</summary>
    private void StartOnce()
    {
        if (_started) return;
        _started = true;
        foreach (var one in _oneRows)
            one.Push(new RecordBatch(new Schema([], null), [], 1));
    }
}
