using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Manifests;

/// <summary>The spec's manifest_entry and manifest_file structs (format v2) with their exact field ids and names.</summary>
internal static class ManifestSchemas
{
    private static readonly PrimitiveType Int = PrimitiveType.Int;
    private static readonly PrimitiveType Long = PrimitiveType.Long;

    public static StructType DataFileType(StructType partitionType) => new(
        NestedField.Require(134, "content", Int),
        NestedField.Require(100, "file_path", PrimitiveType.String),
        NestedField.Require(101, "file_format", PrimitiveType.String),
        NestedField.Require(102, "partition", partitionType),
        NestedField.Require(103, "record_count", Long),
        NestedField.Require(104, "file_size_in_bytes", Long),
        NestedField.Optional(108, "column_sizes", new MapType(117, Int, 118, true, Long)),
        NestedField.Optional(109, "value_counts", new MapType(119, Int, 120, true, Long)),
        NestedField.Optional(110, "null_value_counts", new MapType(121, Int, 122, true, Long)),
        NestedField.Optional(137, "nan_value_counts", new MapType(138, Int, 139, true, Long)),
        NestedField.Optional(125, "lower_bounds", new MapType(126, Int, 127, true, PrimitiveType.Binary)),
        NestedField.Optional(128, "upper_bounds", new MapType(129, Int, 130, true, PrimitiveType.Binary)),
        NestedField.Optional(131, "key_metadata", PrimitiveType.Binary),
        NestedField.Optional(132, "split_offsets", new ListType(133, true, Long)),
        NestedField.Optional(135, "equality_ids", new ListType(136, true, Int)),
        NestedField.Optional(140, "sort_order_id", Int),
        NestedField.Optional(143, "referenced_data_file", PrimitiveType.String));

    public static StructType ManifestEntryType(StructType partitionType) => new(
        NestedField.Require(0, "status", Int),
        NestedField.Optional(1, "snapshot_id", Long),
        NestedField.Optional(3, "sequence_number", Long),
        NestedField.Optional(4, "file_sequence_number", Long),
        NestedField.Require(2, "data_file", DataFileType(partitionType)));

    public static readonly StructType FieldSummaryType = new(
        NestedField.Require(509, "contains_null", PrimitiveType.Boolean),
        NestedField.Optional(518, "contains_nan", PrimitiveType.Boolean),
        NestedField.Optional(510, "lower_bound", PrimitiveType.Binary),
        NestedField.Optional(511, "upper_bound", PrimitiveType.Binary));

    public static readonly StructType ManifestFileType = new(
        NestedField.Require(500, "manifest_path", PrimitiveType.String),
        NestedField.Require(501, "manifest_length", Long),
        NestedField.Require(502, "partition_spec_id", Int),
        NestedField.Require(517, "content", Int),
        NestedField.Require(515, "sequence_number", Long),
        NestedField.Require(516, "min_sequence_number", Long),
        NestedField.Require(503, "added_snapshot_id", Long),
        NestedField.Require(504, "added_files_count", Int),
        NestedField.Require(505, "existing_files_count", Int),
        NestedField.Require(506, "deleted_files_count", Int),
        NestedField.Require(512, "added_rows_count", Long),
        NestedField.Require(513, "existing_rows_count", Long),
        NestedField.Require(514, "deleted_rows_count", Long),
        NestedField.Optional(507, "partitions", new ListType(508, true, FieldSummaryType)),
        NestedField.Optional(519, "key_metadata", PrimitiveType.Binary));
}
