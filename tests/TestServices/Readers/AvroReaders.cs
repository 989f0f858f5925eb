using System.Text.Json;

namespace DataPlane.TestServices.Readers;

/// <summary>
/// Two independent Avro readers from Debian: python3-avro (avro/read-avro.py) and avro-c's <c>avrocat</c> (avro-bin),
/// both installed by scripts/test.sh. Each returns a file's records as JSON.
/// </summary>
public static class AvroReaders
{
    public const string Python = "/usr/bin/python3";
    public const string AvroCat = "/usr/bin/avrocat";

    private static string Script => Path.Combine(RepoPaths.Root, "tests", "TestServices", "Readers", "avro", "read-avro.py");

    /// <summary>python3-avro: per file, its records (bytes as hex).</summary>
    public static async Task<Dictionary<string, List<JsonElement>>> PythonAsync(IEnumerable<string> files)
    {
        using var doc = JsonDocument.Parse(await RunAsync(Python, [Script, .. files]));
        return doc.RootElement.EnumerateObject().ToDictionary(f => f.Name, f => f.Value.EnumerateArray().Select(e => e.Clone()).ToList());
    }

    /// <summary>avro-c: the file's records in Avro's JSON encoding (a union's value wrapped in an object named by its branch).</summary>
    public static async Task<List<JsonElement>> AvroCatAsync(string file)
    {
        var output = await RunAsync(AvroCat, [file]);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    private static async Task<string> RunAsync(string file, string[] args)
    {
        if (!File.Exists(file))
            throw new InvalidOperationException($"{file} is missing: run scripts/test.sh, which installs python3-avro and avro-bin (or apt-get install them).");
        var (exit, stdout, stderr) = await ToolProcess.RunAsync(file, args, TimeSpan.FromMinutes(2));
        if (exit != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed (exit {exit}): {stderr}");
        return stdout;
    }
}
