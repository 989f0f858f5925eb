using DataPlane.Database.Log;

namespace DataPlane.Database.Tests;

/// <summary>The commit log's record format is on disk and on the wire: a record written by an earlier build must read.</summary>
public sealed class LogRecordFormatTests
{
    // Payload "hello" at position 7, committed at 1234567890 us; its trailer is the CRC-32 (IEEE) of position..payload.
    private static readonly byte[] EarlierRecord = Convert.FromHexString("050000000700000000000000d20296490000000068656c6c6f873c5bae");

    [Fact]
    public void A_record_is_written_and_read_with_the_ieee_crc32_it_always_had()
    {
        var entry = LogRecordFormat.Read(new MemoryStream(EarlierRecord));

        Assert.NotNull(entry);
        Assert.Equal((7L, 1234567890L, "hello"), (entry.Position, entry.CommittedAtMicros, System.Text.Encoding.ASCII.GetString(entry.Payload)));
        var written = new MemoryStream();
        LogRecordFormat.Write(written, entry);
        Assert.Equal(EarlierRecord, written.ToArray());
    }

    [Fact]
    public void A_record_with_a_flipped_bit_reads_as_a_torn_tail()
    {
        var corrupt = (byte[])EarlierRecord.Clone();
        corrupt[22] ^= 0x01;

        Assert.Null(LogRecordFormat.Read(new MemoryStream(corrupt)));
    }
}
