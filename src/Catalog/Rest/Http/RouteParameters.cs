using DataPlane.Catalog.Store;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DataPlane.Catalog.Rest.Http;

/// <summary>The spec's path parameters, decoded and checked.</summary>
internal static class RouteParameters
{
    public static Namespace Namespace(HttpContext context) => Store.Namespace.FromPath(context.GetRouteValue("namespace") as string);

    public static string Name(HttpContext context, string parameter) =>
        context.GetRouteValue(parameter) is string { Length: > 0 } name
            ? name
            : throw RestException.BadRequest($"The {parameter} path parameter is empty.");
}
