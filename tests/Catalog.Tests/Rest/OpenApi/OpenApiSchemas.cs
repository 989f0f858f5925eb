using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace DataPlane.Catalog.Tests.Rest.OpenApi;

/// <summary>
/// Validates JSON against the component schemas of the Iceberg REST OpenAPI file: the subset of OpenAPI 3 schema
/// keywords that file uses (type, nullable, required, properties, additionalProperties, items, enum, const,
/// $ref, allOf, anyOf, oneOf, minimum, maximum, uniqueItems). Errors carry the JSON path of the offending value.
/// </summary>
internal sealed class OpenApiSchemas
{
    private static readonly Lazy<OpenApiSchemas> Spec = new(() =>
        new OpenApiSchemas(Path.Combine(AppContext.BaseDirectory, "Rest", "OpenApi", "rest-catalog-open-api.yaml")));

    private readonly JsonObject _schemas;

    private OpenApiSchemas(string path)
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(path)) yaml.Load(reader);
        var root = (JsonObject)ToJson(yaml.Documents[0].RootNode)!;
        _schemas = root["components"]!["schemas"]!.AsObject();
    }

    public static OpenApiSchemas Iceberg => Spec.Value;

    public bool Has(string schemaName) => _schemas.ContainsKey(schemaName);

    /// <summary>Every violation of the named component schema; empty when the JSON conforms.</summary>
    public List<string> Validate(JsonElement value, string schemaName)
    {
        var errors = new List<string>();
        Check(value, Ref(schemaName), "$", errors);
        return errors;
    }

    private JsonObject Ref(string name) =>
        _schemas[name] as JsonObject ?? throw new KeyNotFoundException($"No component schema '{name}' in the OpenAPI file.");

    private void Check(JsonElement v, JsonObject s, string path, List<string> errors)
    {
        if (s["$ref"] is { } reference)
        {
            Check(v, Ref(reference.GetValue<string>().Split('/')[^1]), path, errors);
            return;
        }
        if (v.ValueKind == JsonValueKind.Null)
        {
            if (s["nullable"]?.GetValue<bool>() != true && s["type"] is not null)
                errors.Add($"{path}: null where the schema does not allow it");
            return;
        }
        if (s["allOf"] is JsonArray all)
            foreach (var sub in all) Check(v, sub!.AsObject(), path, errors);
        if (s["anyOf"] is JsonArray any) CheckAlternatives(v, any, path, errors, "anyOf");
        if (s["oneOf"] is JsonArray one) CheckAlternatives(v, one, path, errors, "oneOf");
        if (s["enum"] is JsonArray values && !values.Any(x => SameScalar(x, v)))
            errors.Add($"{path}: {v.GetRawText()} is not one of [{string.Join(", ", values.Select(x => x?.ToJsonString()))}]");
        if (s["const"] is { } constant && !SameScalar(constant, v))
            errors.Add($"{path}: {v.GetRawText()} is not the constant {constant.ToJsonString()}");
        var type = s["type"]?.GetValue<string>();
        switch (type)
        {
            case "object":
                if (v.ValueKind != JsonValueKind.Object) { errors.Add($"{path}: expected an object, got {v.ValueKind}"); return; }
                break;
            case "array":
                if (v.ValueKind != JsonValueKind.Array) { errors.Add($"{path}: expected an array, got {v.ValueKind}"); return; }
                break;
            case "string":
                if (v.ValueKind != JsonValueKind.String) errors.Add($"{path}: expected a string, got {v.ValueKind}");
                return;
            case "boolean":
                if (v.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) errors.Add($"{path}: expected a boolean, got {v.ValueKind}");
                return;
            case "integer":
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out _)) { errors.Add($"{path}: expected an integer, got {v.GetRawText()}"); return; }
                CheckRange(v, s, path, errors);
                return;
            case "number":
                if (v.ValueKind != JsonValueKind.Number) { errors.Add($"{path}: expected a number, got {v.ValueKind}"); return; }
                CheckRange(v, s, path, errors);
                return;
        }
        if (v.ValueKind == JsonValueKind.Object)
        {
            if (s["required"] is JsonArray required)
                foreach (var r in required)
                    if (!v.TryGetProperty(r!.GetValue<string>(), out _))
                        errors.Add($"{path}: missing required property '{r}'");
            var properties = s["properties"] as JsonObject;
            foreach (var p in v.EnumerateObject())
            {
                if (properties?[p.Name] is JsonObject ps) Check(p.Value, ps, $"{path}.{p.Name}", errors);
                else if (s["additionalProperties"] is JsonObject aps) Check(p.Value, aps, $"{path}.{p.Name}", errors);
                else if (s["additionalProperties"] is JsonValue b && !b.GetValue<bool>())
                    errors.Add($"{path}: property '{p.Name}' is not allowed");
            }
        }
        if (v.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            if (s["items"] is JsonObject items)
                foreach (var x in v.EnumerateArray()) Check(x, items, $"{path}[{i++}]", errors);
            if (s["uniqueItems"]?.GetValue<bool>() == true)
            {
                var raw = v.EnumerateArray().Select(x => x.GetRawText()).ToList();
                if (raw.Distinct().Count() != raw.Count) errors.Add($"{path}: items are not unique");
            }
        }
    }

    private void CheckAlternatives(JsonElement v, JsonArray alternatives, string path, List<string> errors, string keyword)
    {
        var matches = 0;
        var reasons = new List<string>();
        foreach (var alt in alternatives)
        {
            var sub = new List<string>();
            Check(v, alt!.AsObject(), path, sub);
            if (sub.Count == 0) matches++;
            else reasons.Add(sub[0]);
        }
        // oneOf branches in this file overlap (e.g. the requirement and update objects differ only by a 'type'
        // constant that some branches leave open), so "at least one" is checked for both keywords.
        if (matches == 0)
            errors.Add($"{path}: matches none of the {keyword} alternatives ({string.Join("; ", reasons)})");
    }

    private static void CheckRange(JsonElement v, JsonObject s, string path, List<string> errors)
    {
        var x = v.GetDouble();
        if (s["minimum"] is { } min && x < Number(min)) errors.Add($"{path}: {x} is below the minimum {min}");
        if (s["maximum"] is { } max && x > Number(max)) errors.Add($"{path}: {x} is above the maximum {max}");
    }

    private static double Number(JsonNode n) => double.Parse(n.ToJsonString(), CultureInfo.InvariantCulture);

    private static bool SameScalar(JsonNode? expected, JsonElement v) =>
        expected is JsonValue e && v.ValueKind != JsonValueKind.Object && v.ValueKind != JsonValueKind.Array &&
        (v.ValueKind == JsonValueKind.String ? e.TryGetValue<string>(out var s) && s == v.GetString() : e.ToJsonString() == v.GetRawText());

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode q => new JsonArray(q.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } p => Plain(p.Value),
        YamlScalarNode p => JsonValue.Create(p.Value),
        _ => null,
    };

    private static JsonNode? Plain(string? text) => text switch
    {
        null or "null" or "~" => null,
        "true" => JsonValue.Create(true),
        "false" => JsonValue.Create(false),
        _ when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
        _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
        _ => JsonValue.Create(text),
    };
}
