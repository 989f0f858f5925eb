using System.Security.Cryptography;
using System.Text;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// What precedes the engine's state in a pipeline's checkpoint: a magic, a version and the fingerprint of the SQL that
/// wrote it (SHA-256 of the pipeline's program text), so a pipeline re-created with other SQL into the same sink is
/// refused its predecessor's windows instead of reading them as its own (a tumble of one minute read as one of two
/// would give wrong rows, not an error).
/// </summary>
internal static class CheckpointHeader
{
    private const string Magic = "DPCHECKPOINT";
    private const int Version = 1;

    public static string Fingerprint(string sql) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));

    public static void Write(Stream stream, string fingerprint)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write(fingerprint);
    }

    /// <summary>Reads the header and leaves the stream at the engine's state; an <see cref="InvalidDataException"/> saying why it does not fit.</summary>
    public static void Read(Stream stream, string fingerprint)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            if (reader.ReadString() != Magic || reader.ReadInt32() != Version)
                throw new InvalidDataException("it is not a pipeline checkpoint of this version");
            if (reader.ReadString() != fingerprint)
                throw new InvalidDataException("it was written by a pipeline whose SQL differs from this one's");
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("it is cut short", e);
        }
    }
}
