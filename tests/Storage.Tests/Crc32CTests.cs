using DataPlane.Storage.Durability;
using Xunit;

namespace DataPlane.Storage.Tests;

/// <summary>CRC-32C frames the ingest log on disk: it must stay Castagnoli's, with its published check value.</summary>
public sealed class Crc32CTests
{
    [Fact]
    public void Computes_the_castagnoli_check_value_whole_and_appended_in_pieces()
    {
        var data = "123456789"u8;

        Assert.Equal(0xE3069283u, Crc32C.Compute(data));
        Assert.Equal(0xE3069283u, ~Crc32C.Append(Crc32C.Append(~0u, data[..5]), data[5..]));
    }
}
