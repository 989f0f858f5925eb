namespace DataPlane.TestServices;

/// <summary>Finds the repository from a test's output folder, so tests can run its scripts and tools.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DataPlane.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"No DataPlane.sln above {AppContext.BaseDirectory}; tests must run from the repository.");
    });

    public static string Root => RootPath.Value;
    public static string Scripts => Path.Combine(Root, "scripts", "test-services");
    /// <summary>Git-ignored folder for tools the tests install (npm packages, servers).</summary>
    public static string Tools => Path.Combine(Root, ".tools");
}
