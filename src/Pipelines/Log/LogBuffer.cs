using System.Buffers;

namespace DataPlane.Pipelines.Log;

/// <summary>
/// A batch payload in a pooled array, shared by the log's in-memory tail and the readers decoding it: the array goes
/// back to the pool only when the last holder releases it, so evicting a batch from the tail while a pipeline still
/// reads it is safe.
/// </summary>
internal sealed class LogBuffer
{
    private readonly byte[] _array;
    private readonly int _length;
    private int _holders = 1;

    private LogBuffer(byte[] array, int length)
    {
        _array = array;
        _length = length;
    }

    public ReadOnlyMemory<byte> Memory => _array.AsMemory(0, _length);

    public int Length => _length;

    /// <summary>A buffer of <paramref name="length"/> bytes for the caller to fill, held once.</summary>
    public static LogBuffer Rent(int length, out Span<byte> fill)
    {
        var array = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
        fill = array.AsSpan(0, length);
        return new LogBuffer(array, length);
    }

    /// <summary>A buffer over <paramref name="array"/>, rented from the shared pool by the caller, which hands it over.</summary>
    public static LogBuffer Own(byte[] array, int length) => new(array, length);

    public static LogBuffer Copy(ReadOnlySpan<byte> payload)
    {
        var buffer = Rent(payload.Length, out var fill);
        payload.CopyTo(fill);
        return buffer;
    }

    /// <summary>One more holder; called under the lock of whoever owns the first hold, so it cannot race the last release.</summary>
    public LogBuffer Acquire()
    {
        Interlocked.Increment(ref _holders);
        return this;
    }

    public void Release()
    {
        int left = Interlocked.Decrement(ref _holders);
        if (left == 0)
            ArrayPool<byte>.Shared.Return(_array);
        else if (left < 0)
            throw new InvalidOperationException("A log buffer was released more often than it was held.");
    }
}
