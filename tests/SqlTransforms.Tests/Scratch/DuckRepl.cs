using DataPlane.SqlTransforms.Tests.Differential;
using Xunit;
using Xunit.Abstractions;
namespace DataPlane.SqlTransforms.Tests.Scratch;
public sealed class DuckRepl(ITestOutputHelper output)
{
    [Fact]
    public void Repl()
    {
        if (!File.Exists("/tmp/duckq.sql")) return;
        using var duck = new DuckDbOracle();
        foreach (var q in File.ReadAllText("/tmp/duckq.sql").Split(";\n", StringSplitOptions.RemoveEmptyEntries))
        {
            if (string.IsNullOrWhiteSpace(q)) continue;
            var (rows, error) = duck.Query(q.Trim());
            output.WriteLine($"Q: {q.Trim()}\n  => {(error ?? string.Join(" || ", rows!))}");
        }
    }
}
