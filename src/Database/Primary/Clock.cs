namespace DataPlane.Database.Primary;

internal static class Clock
{
    /// <summary>Wall-clock microseconds since the Unix epoch: commit times are compared across processes.</summary>
    public static long NowMicros() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
}
