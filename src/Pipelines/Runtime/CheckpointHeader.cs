using System.Security.Cryptography;
using System.Text;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// What precedes the engine's state in a pipeline's checkpoint: a magic, a version and the fingerprint of the SQL that
/// wrote it (SHA-256 of the pipeline's program text), so a pipeline re-created with other SQL into the same sink is
/// refused its predecessor's windows instead of reading them as its own (a tumble of one minute read as one of two
/// would give wrong rows, not an error). Version 1 is a checkpoint in one file (the engine's whole state follows);
/// version 2 heads a checkpoint folder's <see cref="PipelineCheckpoint.MainFile"/> and names the size of each shard file.
/// </summary>
internal static class CheckpointHeader
{
    private const string Magic = "DPCHECKPOINT";
    private const int SingleFile = 1;
    private const int Folder = 2;

    public static string Fingerprint(string sql) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));

    /// <summary>The header of a checkpoint folder's main file, with the bytes of each of its shard files.</summary>
    public static void Write(Stream stream, string fingerprint, IReadOnlyList<long> shardBytes)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(Folder);
        writer.Write(fingerprint);
        writer.Write(shardBytes.Count);
        foreach (var bytes in shardBytes) writer.Write(bytes);
    }

    /// <summary>
    /// Reads the header and leaves the stream at the engine's state; answers the sizes of the shard files of a folder's
    /// main file, null for a checkpoint in one file. An <see cref="InvalidDataException"/> says why it does not fit.
    /// </summary>
    public static long[]? Read(Stream stream, string fingerprint)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            int version = reader.ReadString() == Magic ? reader.ReadInt32() : 0;
            if (version is not (SingleFile or Folder))
                throw new InvalidDataException("it is not a pipeline checkpoint of a version this one reads");
            if (reader.ReadString() != fingerprint)
                throw new InvalidDataException("it was written by a pipeline whose SQL differs from this one's");
            if (version == SingleFile)
                return null;
            int shards = reader.ReadInt32();
            if (shards < 1 || shards > 1 << 16)
                throw new InvalidDataException($"it names {shards} shard files");
            var sizes = new long[shards];
            for (int i = 0; i < shards; i++) sizes[i] = reader.ReadInt64();
            return sizes;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("it is cut short", e);
        }
    }
}
