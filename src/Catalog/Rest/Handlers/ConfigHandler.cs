using DataPlane.Catalog.Rest.Http;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Catalog.Rest.Handlers;

/// <summary><c>GET /v1/config</c>: the defaults clients start from and the endpoints this server implements.</summary>
internal static class ConfigHandler
{
    public static Task GetAsync(HttpContext context, RestCatalog catalog)
    {
        var warehouse = context.Request.Query["warehouse"].ToString();
        var named = warehouse.Length > 0;
        if (named && warehouse != catalog.Options.Name && warehouse.TrimEnd('/') != catalog.WarehouseUri && warehouse != catalog.Options.WarehouseLocation)
            throw RestException.NoSuchWarehouse($"Unknown warehouse '{warehouse}': this catalog serves '{catalog.Options.Name}' ({catalog.WarehouseUri}).");
        return ResponseJson.WriteAsync(context, 200, w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("defaults");
            w.WriteString("warehouse", catalog.WarehouseUri);
            w.WriteEndObject();
            w.WriteStartObject("overrides");
            // A client that named the warehouse gets the prefix that routes to it; one that did not uses the unprefixed paths.
            if (named) w.WriteString("prefix", catalog.Options.Name);
            w.WriteEndObject();
            ResponseJson.WriteStrings(w, "endpoints", RestCatalogRoutes.Endpoints);
            w.WriteEndObject();
        });
    }
}
