using System.Text;
using System.Text.Json;
using DataPlane.Pipelines.Ingest;
using Xunit;

namespace DataPlane.Pipelines.Tests.Ingest;

public sealed class IsoTimestampTests
{
    /// <summary>The fast path must agree with System.Text.Json's ISO 8601 reading wherever it answers.</summary>
    [Theory]
    [InlineData("2026-01-31T12:00:00Z")]
    [InlineData("2026-01-31T12:00:00.123Z")]
    [InlineData("2026-01-31T12:00:00.123456Z")]
    [InlineData("2026-01-31T12:00:00.1234567Z")]
    [InlineData("2026-01-31T12:00:00.123456789Z")]        // past 100 ns: cut, not rounded
    [InlineData("2026-01-31T12:00:00.9999999999999999Z")] // 16 fraction digits, the most System.Text.Json takes
    [InlineData("2026-01-31T12:00:00+05:30")]
    [InlineData("2026-01-31T01:00:00-08:00")]
    [InlineData("2024-02-29T23:59:59.5+13:59")]
    [InlineData("1969-12-31T23:59:59.9999999Z")]          // before the epoch: truncated toward zero like the full path
    [InlineData("1900-03-01T00:00:00.0000005Z")]
    [InlineData("0002-01-01T00:00:00Z")]
    [InlineData("9998-12-31T23:59:59Z")]
    [InlineData("2026-01-31T12:00:00")]
    [InlineData("2026-01-31T12:00:00.5")]
    public void Agrees_with_the_full_parser_on_the_common_shape(string text)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        Assert.True(IsoTimestamp.TryParse(utf8, out long micros, out bool zoned));
        Assert.Equal(Full(text, out bool fullZoned), micros);
        Assert.Equal(fullZoned, zoned);
    }

    /// <summary>Text outside the common shape (or not a timestamp at all) is left to the full parser.</summary>
    [Theory]
    [InlineData("2026-01-31")]
    [InlineData("2026-01-31 12:00:00Z")]
    [InlineData("2026-01-31t12:00:00Z")]
    [InlineData("2026-01-31T12:00:00z")]
    [InlineData("2026-01-31T12:00Z")]
    [InlineData("2026-02-30T12:00:00Z")]
    [InlineData("2026-13-01T12:00:00Z")]
    [InlineData("2026-01-31T24:00:00Z")]
    [InlineData("2026-01-31T12:60:00Z")]
    [InlineData("2026-01-31T12:00:60Z")]
    [InlineData("2026-01-31T12:00:00.Z")]
    [InlineData("2026-01-31T12:00:00.12345678901234567Z")]
    [InlineData("2026-01-31T12:00:00+0530")]
    [InlineData("2026-01-31T12:00:00+05")]
    [InlineData("2026-01-31T12:00:00+14:00")]
    [InlineData("2026-01-31T12:00:00Zjunk")]
    [InlineData("0001-01-01T00:00:00+01:00")]
    [InlineData("2O26-01-31T12:00:00Z")]
    public void Leaves_other_text_to_the_full_parser(string text)
    {
        Assert.False(IsoTimestamp.TryParse(Encoding.UTF8.GetBytes(text), out _, out _));
    }

    private static long Full(string text, out bool zoned)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes($"\"{text}\""));
        reader.Read();
        zoned = text.EndsWith('Z') || text[10..].IndexOfAny(['+', '-']) >= 0;
        long ticks = zoned
            ? (reader.TryGetDateTimeOffset(out var dto) ? dto.UtcTicks : throw new FormatException(text))
            : (reader.TryGetDateTime(out var dt) ? dt.Ticks : throw new FormatException(text));
        return (ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;
    }
}
