using System.Globalization;
using System.Text;
using System.Text.Json;
using DataPlane.Pipelines.Ingest;
using DataPlane.Pipelines.Streams;
using Xunit;

namespace DataPlane.Pipelines.Tests.Ingest;

/// <summary>
/// The scanner that reads NDJSON's common records must change nothing a client sees: every body gives the same
/// outcome, error (line and position included), problems, record spans and Arrow values with it as with the reader
/// alone, and it declines (leaving to the reader) whatever it does not read exactly.
/// </summary>
public sealed class FlatRecordScannerTests
{
    private const string Schema = """
        {"name": "events", "schema": {"fields": [
          {"name": "id", "type": "long", "required": true},
          {"name": "n", "type": "int"},
          {"name": "x", "type": "double"},
          {"name": "f", "type": "float"},
          {"name": "ok", "type": "boolean"},
          {"name": "s", "type": "string"},
          {"name": "ts", "type": "timestamptz"},
          {"name": "lt", "type": "timestamp"},
          {"name": "dec", "type": "decimal(10,2)"},
          {"name": "d", "type": "date"},
          {"name": "st", "type": {"type": "struct", "fields": [{"name": "inner", "type": "string"}]}},
          {"name": "req", "type": "string", "required": true},
          {"name": "é", "type": "string"}]}}
        """;

    private static readonly StreamDefinition Stream =
        StreamDefinition.Parse(JsonDocument.Parse(Schema).RootElement, DateTimeOffset.UnixEpoch);

    private static readonly string[] Fields = ["id", "n", "x", "f", "ok", "s", "ts", "lt", "dec", "d", "st", "req", "é"];

    [Theory]
    [InlineData("""{"id":1,"req":"a"}""")]
    [InlineData("""{"req":"a","id":1}""")]
    [InlineData("""{ "id" : 1 , "req" : "a" , "s" : null }""")]
    [InlineData("{\"id\":1,\r\n\t\"req\":\"a\"}")]
    [InlineData("""{"id":-9223372036854775808,"req":"","n":2147483647,"x":-0,"f":3.4028235e38,"ok":false}""")]
    [InlineData("{\"id\":9223372036854775807,\"req\":\"é😀\",\"x\":1.7976931348623157e308,\"ok\":true,\"s\":\"\u007f\"}")]
    [InlineData("""{"id":1,"req":"a","ts":"2026-01-31T12:00:00.123456Z","lt":"2026-01-31T12:00:00"}""")]
    [InlineData("""{"id":1,"req":"a","ts":1769860800000,"lt":-62135596799999}""")]
    [InlineData("""{"id":1,"req":"a","extra":"x","more":-12.5e3,"other":null,"b":true}""")]
    [InlineData("""{"id":1,"req":"a","dec":null,"d":null,"st":null,"é":"ü"}""")]
    public void Reads_the_common_record_itself(string record)
    {
        var (scanner, columns) = NewScanner();
        var body = Encoding.UTF8.GetBytes(record);
        Assert.Equal(body.Length, scanner.TryRecord(body, 0, int.MaxValue));
        Assert.All(columns, c => Assert.Equal(1, c.Length));
    }

    [Theory]
    [InlineData("""{"id":1,"req":"a\nb"}""")]               // an escape
    [InlineData("""{"id":1,"req":"a","s":"\u00e9"}""")]
    [InlineData("""{"id":1,"req":"a","s":"\ud800"}""")]     // an escape that is no character
    [InlineData("""{"id":1,"re\u0071":"a"}""")]              // an escaped name
    [InlineData("""{"id":1,"req":"a","id":2}""")]            // a field twice
    [InlineData("""{"id":1,"req":"a","s":null,"s":"b"}""")]
    [InlineData("""{"id":1}""")]                             // a required field missing
    [InlineData("""{"id":1,"req":null}""")]                  // or null
    [InlineData("""{"id":1.0,"req":"a"}""")]                 // a long written as a fraction
    [InlineData("""{"id":9223372036854775808,"req":"a"}""")] // past a long
    [InlineData("""{"id":1,"req":"a","n":2147483648}""")]   // past an int
    [InlineData("""{"id":1,"req":"a","x":1e309}""")]        // past a double
    [InlineData("""{"id":1,"req":"a","f":3.5e38}""")]       // past a float
    [InlineData("""{"id":01,"req":"a"}""")]                  // not JSON
    [InlineData("""{"id":1,"req":"a",}""")]
    [InlineData("""{"idx:1,"req":"a"}""")]                  // a name missing its closing quote
    [InlineData("""{"req":"a","notex:"x"}""")]
    [InlineData("{\"id\":1,\"req\":\"a\"")]
    [InlineData("""{"id":1 "req":"a"}""")]
    [InlineData("""{"id":1,"req":"a","ok":tru}""")]
    [InlineData("""{"id":-,"req":"a"}""")]
    [InlineData("""{"id":1.,"req":"a"}""")]
    [InlineData("""{"id":1e,"req":"a"}""")]
    [InlineData("{\"id\":1,\"req\":\"a\u0001\"}")]          // a control character in a string
    [InlineData("{\"id\":1,\f\"req\":\"a\"}")]               // whitespace JSON does not have
    [InlineData("""{"id":1,"req":"a","s":5}""")]             // a value of another type
    [InlineData("""{"id":1,"req":"a","ok":1}""")]
    [InlineData("""{"id":"1","req":"a"}""")]
    [InlineData("""{"id":1,"req":"a","ts":"2026-01-31 12:00:00Z"}""")] // a timestamp the reader's parser reads
    [InlineData("""{"id":1,"req":"a","ts":253402300800000}""")]
    [InlineData("""{"id":1,"req":"a","dec":1.5}""")]        // a type the scanner does not read
    [InlineData("""{"id":1,"req":"a","st":{"inner":"x"}}""")]
    [InlineData("""{"id":1,"req":"a","extra":[1]}""")]      // a nested value it would have to skip
    public void Declines_what_the_reader_must_read_or_refuse(string record)
    {
        var (scanner, columns) = NewScanner();
        Assert.Equal(-1, scanner.TryRecord(Encoding.UTF8.GetBytes(record), 0, int.MaxValue));
        Assert.All(columns, c => Assert.Equal(0, c.Length));
    }

    [Fact]
    public void Declines_a_record_over_the_size_limit()
    {
        var (scanner, _) = NewScanner();
        var body = Encoding.UTF8.GetBytes("""{"id":1,"req":"a"}""");
        Assert.Equal(-1, scanner.TryRecord(body, 0, body.Length - 1));
        Assert.Equal(body.Length, scanner.TryRecord(body, 0, body.Length));
    }

    [Theory]
    [InlineData("{\"id\":1,\"req\":\"a\"}\n{\"id\":2,\"req\":\"b\"}\n")]
    [InlineData("{\"id\":1,\"req\":\"a\"}{\"id\":2,\"req\":\"b\"}")]                      // no separator
    [InlineData("\n\n {\"id\":1,\"req\":\"a\"}\r\n\r\n{\"id\":2,\"req\":\"b\"}  \n")]
    [InlineData("{\"id\":1,\"req\":\"a\"}\n{\"id\":2,\"req\":\"b\\u00e9\"}\n{\"id\":3,\"req\":\"c\"}")] // one left to the reader
    [InlineData("{\"id\":1,\"req\":\"a\"}\n{\"id\":2,\"req\":\"b\",}\n{\"id\":3,\"req\":\"c\"}")]     // malformed: line 2
    [InlineData("{\"id\":1,\"req\":\"a\"}\n\n{\"id\":2,\n\"req\":\"b\" x}")]                           // malformed: line 4
    [InlineData("{\"id\":1,\"req\":\"a\"}\n[1]\n{\"id\":3,\"req\":\"c\"}")]                           // not an object
    [InlineData("{\"id\":1,\"req\":\"a\"}\n\"text\"\n")]
    [InlineData("{\"id\":1,\"req\":\"a\"} 5")]
    [InlineData("{\"id\":1,\"req\":\"a\"}\f")]
    [InlineData("\uFEFF{\"id\":1,\"req\":\"a\"}")]                                                       // a byte order mark
    [InlineData("[{\"id\":1,\"req\":\"a\"}]")]                                                           // an array
    [InlineData("")]
    [InlineData(" \n ")]
    [InlineData("{\"id\":1,\"req\":\"a\"}\n{\"id\":2,\"req\":\"b\"")]                                  // cut short
    [InlineData("{\"id\":1,\"req\":\"a\",\"n\":1.5}\n{\"id\":2,\"req\":\"b\",\"ok\":\"yes\"}")]         // problems
    [InlineData("{\"id\":1,\"req\":\"a\",\"id\":1}\n{\"id\":2}\n{\"req\":\"c\"}")]
    public void Gives_what_the_reader_alone_gives_on_edge_cases(string body)
    {
        AssertSame(new RecordBatchParser(Stream, scanFlatRecords: false), new RecordBatchParser(Stream), Encoding.UTF8.GetBytes(body), int.MaxValue);
    }

    [Fact]
    public void Scans_most_of_a_body_of_common_records_and_reads_the_rest_with_the_reader()
    {
        var body = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 100).Select(i => i % 10 == 3
            ? $"{{\"id\":{i},\"req\":\"line\\nbreak\"}}\n"
            : $"{{\"req\":\"r{i}\",\"id\":{i},\"x\":{i}.25,\"ts\":\"2026-01-31T12:00:{i % 60:D2}Z\"}}\n")));
        var parser = new RecordBatchParser(Stream);
        Assert.Equal(ParseOutcome.Accepted, parser.Parse(body, int.MaxValue));
        Assert.Equal(100, parser.RecordCount);
        Assert.Equal(90, parser.ScannedCount);
        AssertSame(new RecordBatchParser(Stream, scanFlatRecords: false), parser, body, int.MaxValue);
    }

    /// <summary>
    /// Random bodies full of the values at the edges of each type, escapes, unicode, invalid UTF-8, nulls, missing,
    /// extra, reordered and repeated fields, odd whitespace, and bodies cut or with a byte changed: the scanner and the
    /// reader alone agree on every one, and the scanner reads a good share of the records itself.
    /// </summary>
    [Fact]
    public void Gives_what_the_reader_alone_gives_on_random_bodies()
    {
        var exact = new RecordBatchParser(Stream, scanFlatRecords: false);
        var scanned = new RecordBatchParser(Stream);
        var random = new Random(16);
        long records = 0, scannedRecords = 0;
        var outcomes = new Dictionary<ParseOutcome, int>();
        for (int i = 0; i < 4000; i++)
        {
            bool clean = random.Next(3) == 0;
            var body = RandomBody(random, clean, plain: clean || random.Next(2) == 0);
            int max = random.Next(10) switch { 0 => random.Next(20, 200), 1 => 1 << 20, _ => int.MaxValue };
            var outcome = AssertSame(exact, scanned, body, max);
            records += scanned.RecordCount;
            scannedRecords += scanned.ScannedCount;
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }
        // Not a comparison of two readers: the scanner read many records, and every kind of outcome came up.
        Assert.True(scannedRecords > records / 4, $"the scanner read {scannedRecords} of {records} records");
        foreach (var outcome in Enum.GetValues<ParseOutcome>())
            Assert.True(outcomes.GetValueOrDefault(outcome) > 20, $"{outcome}: {outcomes.GetValueOrDefault(outcome)} bodies");
    }

    /// <summary>Numbers of every length and shape, in records that are otherwise clean, so each is read by the scanner
    /// whenever it reads it at all: the long, int, double, float and timestamp columns hold the same bits either way.</summary>
    [Fact]
    public void Reads_numbers_as_the_reader_does()
    {
        var exact = new RecordBatchParser(Stream, scanFlatRecords: false);
        var scanned = new RecordBatchParser(Stream);
        var random = new Random(1616);
        long records = 0, scannedRecords = 0;
        for (int i = 0; i < 400; i++)
        {
            var body = new StringBuilder();
            for (int r = 0; r < 50; r++)
            {
                string field = Pick(random, "id", "n", "x", "x", "x", "f", "f", "ts");
                string number = random.Next(8) == 0 ? Number(random) : field is "id" or "n" or "ts"
                    ? Integer(random, field == "n" ? int.MinValue : long.MinValue, field == "n" ? int.MaxValue : long.MaxValue)
                    : Decimal(random);
                body.Append(field == "id" ? $"{{\"req\":\"a\",\"id\":{number}}}\n" : $"{{\"id\":{r},\"req\":\"a\",\"{field}\":{number}}}\n");
            }
            AssertSame(exact, scanned, Encoding.UTF8.GetBytes(body.ToString()), int.MaxValue);
            records += scanned.RecordCount;
            scannedRecords += scanned.ScannedCount;
        }
        Assert.True(scannedRecords > records / 3, $"the scanner read {scannedRecords} of {records} records");
    }

    private static (FlatRecordScanner Scanner, ColumnBuilder[] Columns) NewScanner()
    {
        var columns = Stream.Fields.Select((f, i) => ColumnBuilder.For(f.Type, Stream.ArrowSchema.FieldsList[i].DataType)).ToArray();
        var scanner = FlatRecordScanner.For(columns, Stream.Fields.Select(f => Encoding.UTF8.GetBytes(f.Name)).ToArray(),
            Stream.Fields.Select(f => f.Required).ToArray());
        return (scanner!, columns);
    }

    private static ParseOutcome AssertSame(RecordBatchParser exact, RecordBatchParser scanned, byte[] body, int maxRecordBytes)
    {
        var expected = exact.Parse(body, maxRecordBytes);
        var actual = scanned.Parse(body, maxRecordBytes);
        string Where() => $"body {Show(body)}, max record bytes {maxRecordBytes}";
        Assert.True(expected == actual, $"outcome {actual}, the reader alone {expected}: {Where()}");
        Assert.True(exact.Error == scanned.Error, $"error '{scanned.Error}', the reader alone '{exact.Error}': {Where()}");
        Assert.True(exact.RecordCount == scanned.RecordCount, $"{scanned.RecordCount} records, the reader alone {exact.RecordCount}: {Where()}");
        Assert.True(exact.Problems.SequenceEqual(scanned.Problems),
            $"problems {string.Join("; ", scanned.Problems)}, the reader alone {string.Join("; ", exact.Problems)}: {Where()}");
        Assert.True(exact.RecordSpans.SequenceEqual(scanned.RecordSpans), $"record spans differ: {Where()}");
        if (expected != ParseOutcome.Malformed) // a malformed body's columns stop mid-record
            Assert.True(exact.Serialize().Span.SequenceEqual(scanned.Serialize().Span), $"the Arrow values differ: {Where()}");
        return actual;
    }

    private static string Show(byte[] body)
    {
        var text = new StringBuilder();
        foreach (byte b in body)
            text.Append(b is >= 0x20 and < 0x7f and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:X2}");
        return text.ToString();
    }

    /// <summary>A body of up to 24 records; a clean one has only values that fit, each record once and whole; a plain
    /// one only JSON's whitespace and no damage.</summary>
    private static byte[] RandomBody(Random random, bool clean, bool plain)
    {
        var body = new List<byte>();
        // Each body has its producer's field order, which a record sometimes departs from.
        var order = Enumerable.Range(0, Fields.Length).ToArray();
        if (random.Next(3) == 0)
            random.Shuffle(order);
        int count = random.Next(4) == 0 ? random.Next(0, 3) : random.Next(1, 25);
        for (int r = 0; r < count; r++)
        {
            Separator(random, body, plain);
            if (!clean && random.Next(60) == 0)
                Add(body, Pick(random, "1", "[]", "\"text\"", "null", "[{\"id\":1}]", "true"));
            else
                Record(random, body, order, clean, plain);
        }
        if (random.Next(2) == 0)
            Add(body, Pick(random, "\n", "\r\n", " ", "\n\n", ""));
        if (!plain && random.Next(6) == 0 && body.Count > 0)
        {
            // Damage: cut it short, or change, drop or insert one byte.
            const string Significant = "{}[]\",:\\ \n\t\u0001x0-.e";
            int at = random.Next(body.Count);
            byte other = (byte)Significant[random.Next(Significant.Length)];
            switch (random.Next(4))
            {
                case 0: body.RemoveRange(at, body.Count - at); break;
                case 1: body[at] = random.Next(3) == 0 ? (byte)random.Next(256) : other; break;
                case 2: body.RemoveAt(at); break;
                default: body.Insert(at, other); break;
            }
        }
        return body.ToArray();
    }

    private static void Record(Random random, List<byte> body, int[] order, bool clean, bool plain)
    {
        var fields = order.ToArray();
        if (random.Next(4) == 0)
            random.Shuffle(fields);
        body.Add((byte)'{');
        bool first = true;
        foreach (int f in fields)
        {
            // Most fields are present, the required ones nearly always, those of types the scanner leaves to the reader
            // (decimal, date, struct) seldom.
            bool required = f is 0 or 11;
            if (required ? !clean && random.Next(60) == 0 : f is 8 or 9 or 10 ? random.Next(10) != 0 : random.Next(4) == 0)
                continue;
            Field(random, body, ref first, Fields[f], Value(random, f, clean), plain);
            if (!clean && random.Next(60) == 0)
                Field(random, body, ref first, Fields[f], Value(random, f, clean), plain); // twice
            if (random.Next(15) == 0)
                Field(random, body, ref first, Pick(random, "extra", "ID", "idx", "i", "", "x y", "日本"), Unknown(random, clean), plain);
            if (!clean && random.Next(40) == 0)
                Field(random, body, ref first, Pick(random, "\\u0069d", "r\\u00e9q", "\\u00e9"), Value(random, f, clean), plain); // escaped names
        }
        Space(random, body, plain);
        body.Add((byte)'}');
    }

    private static void Field(Random random, List<byte> body, ref bool first, string name, byte[] value, bool plain)
    {
        if (!first)
        {
            Space(random, body, plain);
            body.Add((byte)',');
        }
        first = false;
        Space(random, body, plain);
        Add(body, "\"" + name + "\"");
        Space(random, body, plain);
        body.Add((byte)':');
        Space(random, body, plain);
        body.AddRange(value);
    }

    private static byte[] Value(Random random, int field, bool clean)
    {
        if (clean)
            return Fields[field] switch
            {
                "id" => Encoding.UTF8.GetBytes(random.NextInt64(long.MinValue, long.MaxValue).ToString(CultureInfo.InvariantCulture)),
                "n" => Encoding.UTF8.GetBytes(random.Next(int.MinValue, int.MaxValue).ToString(CultureInfo.InvariantCulture)),
                "x" or "f" => Encoding.UTF8.GetBytes((random.Next(-100000, 100000) / 8.0).ToString(CultureInfo.InvariantCulture)),
                "ok" => Encoding.UTF8.GetBytes(Pick(random, "true", "false")),
                "ts" or "lt" => Encoding.UTF8.GetBytes(random.Next(2) == 0 ? random.NextInt64(0, 253402300799999).ToString(CultureInfo.InvariantCulture)
                    : $"\"2026-{random.Next(1, 13):D2}-{random.Next(1, 29):D2}T{random.Next(24):D2}:{random.Next(60):D2}:{random.Next(60):D2}.{random.Next(1000):D3}Z\""),
                "dec" => "1.25"u8.ToArray(),
                "d" => "\"2026-01-31\""u8.ToArray(),
                "st" => "{\"inner\":\"a\"}"u8.ToArray(),
                "req" => StringValue(random, clean) is var v && v.Length > 2 ? v : "\"r\""u8.ToArray(),
                _ => StringValue(random, clean),
            };
        if (random.Next(12) == 0)
            return Encoding.UTF8.GetBytes(Pick(random, "null", "nul", "true", "\"\"", "{}", "[]", "1", "{\"inner\":\"a\"}"));
        string text = Fields[field] switch
        {
            "id" => Integer(random, long.MinValue, long.MaxValue),
            "n" => Integer(random, int.MinValue, int.MaxValue),
            "x" or "f" => Number(random),
            "ok" => Pick(random, "true", "false", "true", "false", "truex", "\"true\"", "0"),
            "ts" or "lt" => Timestamp(random),
            "dec" => Pick(random, "1.25", "\"3.5\"", "123456789.123", "-0.01"),
            "d" => Pick(random, "\"2026-01-31\"", "\"2026-02-30\"", "20260131"),
            "st" => Pick(random, "{\"inner\":\"a\"}", "{\"inner\":5}", "{}", "{\"inner\":\"\\u00e9\",\"x\":[1]}"),
            _ => "",
        };
        return text.Length > 0 ? Encoding.UTF8.GetBytes(text) : StringValue(random, clean);
    }

    private static string Integer(Random random, long min, long max) => random.Next(8) switch
    {
        0 => Pick(random, min.ToString(CultureInfo.InvariantCulture), max.ToString(CultureInfo.InvariantCulture), "0", "-0", "1", "-1"),
        1 => Pick(random, ((decimal)min - 1).ToString(CultureInfo.InvariantCulture), ((decimal)max + 1).ToString(CultureInfo.InvariantCulture),
            "99999999999999999999999", "1.0", "1e3", "1E+2", "01", "-", "00", "1.5", "-0.0", "12a", "1 2"),
        2 => random.NextInt64(min, max).ToString(CultureInfo.InvariantCulture),
        3 => "\"" + random.Next() + "\"",
        _ => random.Next(-100000, 100000).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Numbers of every shape JSON has, around the edges of float and double and the fast division's limits.</summary>
    private static string Number(Random random)
    {
        if (random.Next(6) == 0)
            return Pick(random, "1.7976931348623157e308", "1.7976931348623159e308", "1e309", "-1e400", "4.9e-324", "2e-324", "1e-400",
                "2.2250738585072014e-308", "3.4028235e38", "3.4028236e38", "3.4028235677973366e38", "1e39", "1.4e-45", "7e-46",
                "9007199254740993", "123456789012345", "1234567890123456", "0.000000000000001", "0.1", "-0", "-0.0", "0.30000000000000004",
                "999999999999999.9", "99999999999999.99", "1.", ".5", "+1", "1e", "1e+", "--1", "0x10", "NaN", "Infinity", "1.5E-3");
        var text = new StringBuilder();
        if (random.Next(3) == 0)
            text.Append('-');
        int digits = random.Next(1, random.Next(4) == 0 ? 30 : 17);
        int point = random.Next(0, digits + 1);
        for (int i = 0; i < digits; i++)
        {
            if (i == point && i > 0)
                text.Append('.');
            text.Append(i == 0 && digits > 1 && point != 1 ? (char)('1' + random.Next(9)) : (char)('0' + random.Next(10)));
        }
        if (random.Next(5) == 0)
            text.Append(Pick(random, "e", "E", "e+", "e-")).Append(random.Next(0, 400));
        return text.ToString();
    }

    /// <summary>A JSON number of 1 to 25 digits, a point anywhere, sometimes an exponent: around where a double stops
    /// holding every digit exactly (15-17) and where the digits stop fitting a long (19).</summary>
    private static string Decimal(Random random)
    {
        var text = new StringBuilder();
        if (random.Next(2) == 0)
            text.Append('-');
        int whole = random.Next(1, 20), fraction = random.Next(0, random.Next(2) == 0 ? 6 : 20);
        text.Append(random.Next(4) == 0 ? '0' : (char)('1' + random.Next(9)));
        if (text[^1] != '0')
            for (int i = 1; i < whole; i++)
                text.Append((char)('0' + random.Next(10)));
        if (fraction > 0)
        {
            text.Append('.');
            for (int i = 0; i < fraction; i++)
                text.Append((char)('0' + random.Next(10)));
        }
        if (random.Next(5) == 0)
            text.Append(Pick(random, "e", "E", "e+", "e-", "E-")).Append(random.Next(0, 330));
        return text.ToString();
    }

    private static string Timestamp(Random random) => random.Next(6) switch
    {
        0 => Pick(random, "-62135596800000", "-62135596799999", "253402300799999", "253402300800000", "0", "1769860800000", "1.5", "-0"),
        1 => "\"" + Pick(random, "2026-01-31 12:00:00Z", "2026-01-31", "2026-01-31T12:00:00+0530", "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.9999999Z", "2026-01-31T12:00:00.12345678901234567Z", "2026-02-30T00:00:00Z", "2026-01-31T12:00:00z",
            "2026-01-31T12:00:00\\u005a", "not a time", "") + "\"",
        2 => random.NextInt64(-62135596799999, 253402300799999).ToString(CultureInfo.InvariantCulture),
        _ => $"\"{random.Next(1, 9999):D4}-{random.Next(1, 13):D2}-{random.Next(1, 29):D2}T{random.Next(24):D2}:{random.Next(60):D2}:{random.Next(60):D2}"
            + Pick(random, "", ".5", ".123", ".123456", ".1234567", ".123456789") + Pick(random, "Z", "", "+05:30", "-08:00", "+13:59", "+14:00") + "\"",
    };

    /// <summary>A JSON string: plain text, unicode, escapes (good and bad), raw control characters and invalid UTF-8.</summary>
    private static byte[] StringValue(Random random, bool clean)
    {
        var value = new List<byte> { (byte)'"' };
        int parts = random.Next(0, 5);
        for (int i = 0; i < parts; i++)
        {
            switch (random.Next(14))
            {
                case 0 when clean: Add(value, Pick(random, "\\n", "\\\"", "\\\\", "\\/", "\\u00e9", "\\ud83d\\ude00")); break;
                case 1 when clean: Add(value, "plain"); break;
                case 0: Add(value, Pick(random, "\\n", "\\\"", "\\\\", "\\/", "\\t", "\\u00e9", "\\ud83d\\ude00", "\\ud800", "\\udc00x", "\\u12", "\\x")); break;
                case 1: value.AddRange(Pick(random, new byte[] { 0xFF }, [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0x01], [0x1F], [0x7F])); break;
                case 2: Add(value, Pick(random, "é", "😀", "日本語", "\u2028", "ü")); break;
                default: Add(value, Pick(random, "a", "user42", "click", "a short free text note", " ", "2026-01-31T12:00:00Z")); break;
            }
        }
        value.Add((byte)'"');
        return value.ToArray();
    }

    private static byte[] Unknown(Random random, bool clean) => random.Next(5) switch
    {
        0 => Encoding.UTF8.GetBytes(Pick(random, "[1,2]", "{\"a\":{\"b\":null}}", "[]", "{}")),
        1 => Encoding.UTF8.GetBytes(clean ? "12.5" : Number(random)),
        2 => Encoding.UTF8.GetBytes(Pick(random, "true", "false", "null", clean ? "null" : "nil")),
        _ => StringValue(random, clean),
    };

    private static void Separator(Random random, List<byte> body, bool plain)
    {
        if (body.Count > 0 || random.Next(5) == 0)
            Add(body, random.Next(plain ? 1 : 0, 10) switch { 0 => "\u000c", 1 => "", 2 => "\r\n", 3 => " \n\t", 4 => "\n\n", _ => "\n" });
    }

    private static void Space(Random random, List<byte> body, bool plain)
    {
        if (random.Next(10) == 0)
            Add(body, plain ? Pick(random, " ", "  ", "\t", "\r\n", "\n") : Pick(random, " ", "\t", "\r\n", "\n", "\u000c", "\u00a0"));
    }

    private static void Add(List<byte> body, string text) => body.AddRange(Encoding.UTF8.GetBytes(text));

    private static T Pick<T>(Random random, params T[] choices) => choices[random.Next(choices.Length)];
}
