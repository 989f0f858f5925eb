using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Aggregates;

/// <summary>
/// approx_percentile(x, fraction) (approx_quantile): exact while a group holds at most 1,024 values (the first value
/// whose cumulative share reaches the fraction, position ceil(n * fraction) - 1 in order, as SQL's percentile_disc and
/// DuckDB's quantile_disc), then a DDSketch: values in logarithmic
/// buckets with 1% relative accuracy, so the answer is within 1% of a value at that rank whatever the count.
/// Both forms merge (panes, sessions), and a merge past the limit turns into the sketch. NULLs are skipped.
/// </summary>
internal sealed class ApproxPercentileAccumulator(double fraction) : IGroupAccumulator
{
    private const int ExactLimit = 1024;
    private const double Accuracy = 0.01;
    private static readonly double Gamma = (1 + Accuracy) / (1 - Accuracy);
    private static readonly double LogGamma = Math.Log(Gamma);

    private Sketch?[] _sketches = new Sketch?[16];

    private sealed class Sketch
    {
        public List<double>? Exact = [];
        public SortedDictionary<int, long> Positive = new();
        public SortedDictionary<int, long> Negative = new();
        public long Zeros;
        public long Count;

        public void Add(double v)
        {
            Count++;
            if (Exact is not null)
            {
                Exact.Add(v);
                if (Exact.Count > ExactLimit)
                {
                    var values = Exact;
                    Exact = null;
                    Count -= values.Count;
                    foreach (var x in values) Add(x);
                }
                return;
            }
            if (v == 0 || double.IsNaN(v)) { Zeros++; return; }
            var buckets = v > 0 ? Positive : Negative;
            int index = (int)Math.Ceiling(Math.Log(Math.Min(Math.Abs(v), double.MaxValue)) / LogGamma);
            buckets[index] = buckets.GetValueOrDefault(index) + 1;
        }

        public double Quantile(double q)
        {
            // ceil(n * q) - 1 (at least 0) as DuckDB computes it, so that the rounding of n * q agrees with it too
            long rank = Math.Max(1, Count - (long)Math.Floor(Count - Count * q)) - 1;
            if (Exact is not null)
            {
                var sorted = Exact.ToArray();
                Array.Sort(sorted, (a, b) => Kernels.OrderDouble.Compare(a, b));
                return sorted[rank];
            }
            long seen = 0;
            foreach (var (index, count) in Negative.Reverse())
                if ((seen += count) > rank) return -Value(index);
            if ((seen += Zeros) > rank) return 0;
            foreach (var (index, count) in Positive)
                if ((seen += count) > rank) return Value(index);
            return Value(Positive.Keys.Last());
        }

        private static double Value(int index) => 2 * Math.Pow(Gamma, index) / (Gamma + 1);
    }

    public void Update(IArrowArray? input, ReadOnlySpan<int> groups, int groupCount)
    {
        GroupArrays.Grow(ref _sketches, groupCount);
        var values = Vectors.Values<double>(input!);
        bool nulls = input!.NullCount > 0;
        for (int i = 0; i < groups.Length; i++)
        {
            int g = groups[i];
            if (g < 0 || (nulls && input.IsNull(i))) continue;
            (_sketches[g] ??= new Sketch()).Add(values[i]);
        }
    }

    public IArrowArray Result(ReadOnlySpan<int> groups)
    {
        var bytes = Vectors.Allocate<double>(groups.Length, out var values);
        var validity = new byte[(groups.Length + 7) / 8];
        for (int i = 0; i < groups.Length; i++)
        {
            if (groups[i] >= _sketches.Length || _sketches[groups[i]] is not { Count: > 0 } sketch) continue;
            values[i] = sketch.Quantile(fraction);
            Vectors.Set(validity, i);
        }
        return Vectors.Fixed(SqlType.Double, bytes, validity, groups.Length);
    }

    public void Merge(IGroupAccumulator source, int from, int to)
    {
        var s = (ApproxPercentileAccumulator)source;
        GroupArrays.Grow(ref _sketches, to + 1);
        if (from >= s._sketches.Length || s._sketches[from] is not { } theirs) return;
        var ours = _sketches[to] ??= new Sketch();
        if (theirs.Exact is not null)
        {
            foreach (var v in theirs.Exact) ours.Add(v);
            return;
        }
        if (ours.Exact is { } exact)
        {
            ours.Exact = null;
            ours.Count -= exact.Count;
            foreach (var v in exact) ours.Add(v);
        }
        foreach (var (index, count) in theirs.Positive) ours.Positive[index] = ours.Positive.GetValueOrDefault(index) + count;
        foreach (var (index, count) in theirs.Negative) ours.Negative[index] = ours.Negative.GetValueOrDefault(index) + count;
        ours.Zeros += theirs.Zeros;
        ours.Count += theirs.Count;
    }

    public void Clear(int group)
    {
        if (group < _sketches.Length) _sketches[group] = null;
    }

    public void Write(BinaryWriter writer, int groupCount)
    {
        GroupArrays.Grow(ref _sketches, groupCount);
        for (int g = 0; g < groupCount; g++)
        {
            var s = _sketches[g];
            writer.Write(s is null ? (byte)0 : s.Exact is not null ? (byte)1 : (byte)2);
            if (s is null) continue;
            if (s.Exact is { } exact)
            {
                writer.Write(exact.Count);
                foreach (var v in exact) writer.Write(v);
                continue;
            }
            writer.Write(s.Count);
            writer.Write(s.Zeros);
            foreach (var buckets in new[] { s.Positive, s.Negative })
            {
                writer.Write(buckets.Count);
                foreach (var (index, count) in buckets) { writer.Write(index); writer.Write(count); }
            }
        }
    }

    public void Read(BinaryReader reader, int groupCount)
    {
        GroupArrays.Grow(ref _sketches, groupCount);
        for (int g = 0; g < groupCount; g++)
        {
            byte kind = reader.ReadByte();
            if (kind == 0) { _sketches[g] = null; continue; }
            var s = _sketches[g] = new Sketch();
            if (kind == 1)
            {
                int n = reader.ReadInt32();
                for (int i = 0; i < n; i++) s.Exact!.Add(reader.ReadDouble());
                s.Count = n;
                continue;
            }
            s.Exact = null;
            s.Count = reader.ReadInt64();
            s.Zeros = reader.ReadInt64();
            foreach (var buckets in new[] { s.Positive, s.Negative })
            {
                int n = reader.ReadInt32();
                for (int i = 0; i < n; i++) buckets[reader.ReadInt32()] = reader.ReadInt64();
            }
        }
    }
}
