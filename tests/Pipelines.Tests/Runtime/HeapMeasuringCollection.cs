using Xunit;

namespace DataPlane.Pipelines.Tests.Runtime;

/// <summary>Tests that measure the process's heap run alone, after the others: another test's data would be counted as theirs.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasuringCollection
{
    public const string Name = "heap measuring";
}
