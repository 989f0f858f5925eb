using System.Text.Json;
using DataPlane.Storage.Durability;

namespace DataPlane.Pipelines;

/// <summary>Writes a definition file so a crash leaves either the old file or the whole new one.</summary>
internal static class DefinitionFile
{
    public static void Write(string path, Action<Utf8JsonWriter> write)
    {
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            using (var w = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true }))
                write(w);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        DirectoryFlush.Flush(Path.GetDirectoryName(path)!);
    }
}
