using DataPlane.Iceberg.Types;

namespace DataPlane.Pipelines.Streams;

/// <summary>One declared field of a stream's schema: an Iceberg type (primitive or nested), required or optional.</summary>
internal sealed record StreamField(int Id, string Name, IcebergType Type, bool Required);
