namespace DataPlane.Pipelines.Ingest;

internal enum ParseOutcome
{
    Accepted,
    /// <summary>Some records do not fit the schema; the problems list says which.</summary>
    Invalid,
    /// <summary>The body is not JSON (or not an array / NDJSON of objects).</summary>
    Malformed,
    /// <summary>A record is larger than the maximum record size.</summary>
    RecordTooLarge,
}
