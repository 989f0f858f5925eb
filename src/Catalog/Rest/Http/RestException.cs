using DataPlane.Catalog.Store;
using DataPlane.Iceberg.Catalogs;

namespace DataPlane.Catalog.Rest.Http;

/// <summary>
/// An error the catalog answers with, in the spec's <c>IcebergErrorResponse</c> shape: the HTTP code plus the
/// exception type name that Iceberg clients map back to their own exceptions (e.g. 404 <c>NoSuchTableException</c>).
/// </summary>
internal sealed class RestException(int code, string type, string message) : Exception(message)
{
    public int Code { get; } = code;
    public string Type { get; } = type;

    /// <summary>The catalog's refusal as the REST spec answers its type: 404 for what does not exist, 409 for a
    /// conflict, 400 for a bad request.</summary>
    public static RestException From(CatalogException e) => new(e.Type switch
    {
        "NoSuchNamespaceException" or "NoSuchTableException" or "NoSuchViewException" or "NotFoundException" => 404,
        "AlreadyExistsException" or "NamespaceNotEmptyException" or "CommitFailedException" => 409,
        "UnsupportedOperationException" => 406,
        _ => 400,
    }, e.Type, e.Message);

    public static RestException BadRequest(string message) => new(400, "BadRequestException", message);
    public static RestException NotAuthorized(string message) => new(401, "NotAuthorizedException", message);
    public static RestException Forbidden(string message) => new(403, "ForbiddenException", message);
    public static RestException NoSuchNamespace(Namespace ns) => new(404, "NoSuchNamespaceException", $"Namespace does not exist: {ns}");
    public static RestException NoSuchTable(Namespace ns, string table) => new(404, "NoSuchTableException", $"Table does not exist: {ns.Qualify(table)}");
    public static RestException NoSuchView(Namespace ns, string view) => new(404, "NoSuchViewException", $"View does not exist: {ns.Qualify(view)}");
    public static RestException NoSuchWarehouse(string message) => new(404, "NoSuchWarehouseException", message);
    public static RestException NotFound(string message) => new(404, "NotFoundException", message);
    public static RestException Unsupported(string message) => new(406, "UnsupportedOperationException", message);
    public static RestException AlreadyExists(string message) => new(409, "AlreadyExistsException", message);
    public static RestException NamespaceNotEmpty(Namespace ns, string what) => new(409, "NamespaceNotEmptyException", $"Namespace {ns} is not empty: it holds {what}");
    public static RestException CommitFailed(string message) => new(409, "CommitFailedException", message);
    public static RestException AuthenticationTimeout(string message) => new(419, "AuthenticationTimeoutException", message);
    public static RestException TooLarge(string message) => new(413, "BadRequestException", message);
    public static RestException Unprocessable(string message) => new(422, "UnprocessableEntityException", message);
    public static RestException ServiceUnavailable(string message) => new(503, "ServiceUnavailableException", message);
}
