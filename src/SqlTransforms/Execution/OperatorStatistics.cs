using DataPlane.SqlTransforms.Execution.Operators;

namespace DataPlane.SqlTransforms.Execution;

/// <summary>
/// What a stateful operator has seen, counted by the <see cref="StatisticsTap"/>s on its inputs and output once per
/// batch (never per record). Written by the thread that pushes batches and read by any other (a status page): each
/// field is one aligned 64-bit word, so a reader sees a value it had, maybe a batch old.
/// </summary>
internal sealed class OperatorStatistics(SqlStatefulOperator plan, IStatefulOperator op, IReadOnlyList<string> sources, int inputs)
{
    private readonly long[] _watermarks = Enumerable.Repeat(long.MinValue, inputs).ToArray();
    private long _in;
    private long _out;

    public SqlStatefulOperator Plan => plan;
    public IStatefulOperator Operator => op;
    /// <summary>The sources whose records reach the operator: their watermarks' late records are its late records too.</summary>
    public IReadOnlyList<string> Sources => sources;
    public long RecordsIn => Volatile.Read(ref _in);
    public long RecordsOut => Volatile.Read(ref _out);

    /// <summary>The least of its inputs' watermarks; null until each input has had one.</summary>
    public long? Watermark
    {
        get
        {
            long least = long.MaxValue;
            for (int i = 0; i < _watermarks.Length; i++) least = Math.Min(least, Volatile.Read(ref _watermarks[i]));
            return least == long.MinValue || least == long.MaxValue ? null : least;
        }
    }

    public void In(int rows) => Volatile.Write(ref _in, _in + rows);

    public void Out(int rows) => Volatile.Write(ref _out, _out + rows);

    public void Watermarked(int input, long micros) => Volatile.Write(ref _watermarks[input], micros);
}
