namespace DataPlane.Storage;

/// <summary>How a multipart object was uploaded: <see cref="PartCount"/> parts, every one but the last
/// <see cref="PartSize"/> bytes. With it a reader can hash the same parts and rebuild the multipart ETag.</summary>
public sealed record PartLayout(int PartCount, long PartSize);
