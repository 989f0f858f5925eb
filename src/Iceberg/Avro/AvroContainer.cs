using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Avro.Generic;
using Avro.IO;
using AvroSchema = Avro.Schema;

namespace DataPlane.Iceberg.Avro;

/// <summary>
/// Avro object container files (Avro spec, "Object Container Files") with the deflate codec. Records are encoded and
/// decoded by Apache.Avro's generic datum writer/reader; the container is framed here so that the header carries the
/// schema text exactly as the Iceberg spec writes it. Apache.Avro drops logical types it does not know
/// (<c>map</c> on arrays) and refuses <c>uuid</c> on fixed, so records are encoded with the same schema stripped of
/// logical types: the binary encoding does not depend on them, and values stay raw (days, micros, unscaled bytes).
/// </summary>
internal static class AvroContainer
{
    private static readonly byte[] Magic = "Obj\u0001"u8.ToArray();
    private const int RecordsPerBlock = 1000;

    /// <summary>The schema Apache.Avro encodes and decodes with: the given one without logical types.</summary>
    public static AvroSchema EncodingSchema(string schemaJson)
    {
        var node = JsonNode.Parse(schemaJson)!;
        Strip(node);
        return AvroSchema.Parse(node.ToJsonString());
    }

    private static void Strip(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                o.Remove("logicalType");
                foreach (var (_, v) in o.ToList()) Strip(v);
                break;
            case JsonArray a:
                foreach (var v in a) Strip(v);
                break;
        }
    }

    public sealed class Writer : IDisposable
    {
        private readonly Stream _out;
        private readonly GenericDatumWriter<GenericRecord> _datumWriter;
        private readonly byte[] _sync = RandomNumberGenerator.GetBytes(16);
        private readonly MemoryStream _block = new();
        private readonly BinaryEncoder _blockEncoder;
        private int _blockCount;

        public Writer(Stream output, string schemaJson, IEnumerable<KeyValuePair<string, string>> metadata)
        {
            _out = output;
            Schema = EncodingSchema(schemaJson);
            _datumWriter = new GenericDatumWriter<GenericRecord>(Schema);
            _blockEncoder = new BinaryEncoder(_block);

            var header = new MemoryStream();
            var enc = new BinaryEncoder(header);
            header.Write(Magic);
            var meta = metadata.ToList();
            meta.Add(new("avro.schema", schemaJson));
            meta.Add(new("avro.codec", "deflate"));
            enc.WriteMapStart();
            enc.SetItemCount(meta.Count);
            foreach (var (k, v) in meta)
            {
                enc.WriteString(k);
                enc.WriteBytes(Encoding.UTF8.GetBytes(v));
            }
            enc.WriteMapEnd();
            header.Write(_sync);
            header.Position = 0;
            header.CopyTo(_out);
        }

        public AvroSchema Schema { get; }
        public long RecordCount { get; private set; }

        public void Append(GenericRecord record)
        {
            _datumWriter.Write(record, _blockEncoder);
            _blockCount++;
            RecordCount++;
            if (_blockCount >= RecordsPerBlock) FlushBlock();
        }

        public void Finish()
        {
            if (_blockCount > 0) FlushBlock();
            _out.Flush();
        }

        private void FlushBlock()
        {
            var compressed = new MemoryStream();
            using (var deflate = new DeflateStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
                deflate.Write(_block.GetBuffer(), 0, (int)_block.Length);
            var head = new MemoryStream();
            var enc = new BinaryEncoder(head);
            enc.WriteLong(_blockCount);
            enc.WriteLong(compressed.Length);
            _out.Write(head.GetBuffer(), 0, (int)head.Length);
            _out.Write(compressed.GetBuffer(), 0, (int)compressed.Length);
            _out.Write(_sync);
            _block.SetLength(0);
            _blockCount = 0;
        }

        public void Dispose()
        {
            _block.Dispose();
        }
    }

    /// <summary>Reads a container: its key/value metadata, then its records block by block.</summary>
    public sealed class Reader
    {
        private readonly Stream _in;
        private readonly byte[] _sync = new byte[16];
        private readonly GenericDatumReader<GenericRecord> _datumReader;
        private readonly string _codec;

        public Reader(Stream input)
        {
            _in = input;
            var dec = new BinaryDecoder(_in);
            var magic = new byte[4];
            _in.ReadExactly(magic);
            if (!magic.AsSpan().SequenceEqual(Magic)) throw new InvalidDataException("Not an Avro object container file (bad magic).");
            var meta = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var n = dec.ReadMapStart(); n != 0; n = dec.ReadMapNext())
                for (var i = 0; i < n; i++)
                    meta[dec.ReadString()] = Encoding.UTF8.GetString(dec.ReadBytes());
            _in.ReadExactly(_sync);
            Metadata = meta;
            SchemaJson = meta.TryGetValue("avro.schema", out var s) ? s : throw new InvalidDataException("Avro file has no avro.schema.");
            _codec = meta.GetValueOrDefault("avro.codec", "null");
            if (_codec is not ("null" or "deflate"))
                throw new NotSupportedException($"Avro codec '{_codec}' is not supported; supported: null, deflate.");
            Schema = EncodingSchema(SchemaJson);
            _datumReader = new GenericDatumReader<GenericRecord>(Schema, Schema);
        }

        public IReadOnlyDictionary<string, string> Metadata { get; }
        public string SchemaJson { get; }
        public AvroSchema Schema { get; }

        /// <summary>Reads a zigzag varint, or returns false at a clean end of file (before its first byte).</summary>
        private static bool TryReadLong(Stream s, out long value)
        {
            value = 0;
            var b = s.ReadByte();
            if (b < 0) return false;
            ulong n = (ulong)(b & 0x7F);
            for (var shift = 7; (b & 0x80) != 0; shift += 7)
            {
                b = s.ReadByte();
                if (b < 0) throw new InvalidDataException("Avro file ends inside a block header.");
                n |= (ulong)(b & 0x7F) << shift;
            }
            value = (long)(n >> 1) ^ -(long)(n & 1);
            return true;
        }

        public IEnumerable<GenericRecord> Records()
        {
            while (true)
            {
                if (!TryReadLong(_in, out var count)) yield break;
                if (!TryReadLong(_in, out var size)) throw new InvalidDataException("Avro file ends inside a block header.");
                var data = new byte[size];
                _in.ReadExactly(data);
                var sync = new byte[16];
                _in.ReadExactly(sync);
                if (!sync.AsSpan().SequenceEqual(_sync)) throw new InvalidDataException("Avro block sync marker mismatch: the file is corrupt.");
                Stream block = new MemoryStream(data);
                if (_codec == "deflate") block = new DeflateStream(block, CompressionMode.Decompress);
                using (block)
                {
                    var blockDec = new BinaryDecoder(block);
                    for (var i = 0; i < count; i++) yield return _datumReader.Read(null!, blockDec);
                }
            }
        }
    }
}
