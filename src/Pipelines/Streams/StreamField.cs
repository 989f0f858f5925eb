using DataPlane.Catalog.Types;

namespace DataPlane.Pipelines.Streams;

/// <summary>One declared field of a stream's schema: an Iceberg primitive type, required or optional.</summary>
internal sealed record StreamField(int Id, string Name, PrimitiveType Type, bool Required);
