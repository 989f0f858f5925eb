using System.Diagnostics;
using Xunit;

namespace DataPlane.Iceberg.Tests.Manifests;

/// <summary>A fact that needs Debian's python3-avro (an independent Avro reader); skipped with a message when absent.</summary>
public sealed class PythonAvroFactAttribute : FactAttribute
{
    public const string Python = "/usr/bin/python3";
    private static readonly Lazy<bool> Available = new(() =>
    {
        if (!File.Exists(Python)) return false;
        using var p = Process.Start(new ProcessStartInfo(Python, ["-c", "import avro.datafile"]) { RedirectStandardError = true });
        p!.WaitForExit();
        return p.ExitCode == 0;
    });

    public PythonAvroFactAttribute()
    {
        if (!Available.Value) Skip = "python3-avro is not installed (apt-get install -y python3-avro); CI installs it.";
    }
}
