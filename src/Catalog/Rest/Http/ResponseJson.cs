using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using DataPlane.Catalog.Store;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Catalog.Rest.Http;

/// <summary>Writes JSON responses straight from a <see cref="Utf8JsonWriter"/>: no intermediate object model on the hot load path.</summary>
internal static class ResponseJson
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    public static Task WriteAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
            write(w);
        return WriteAsync(context, status, buffer.WrittenMemory);
    }

    /// <summary>Sends an already serialized body.</summary>
    public static Task WriteAsync(HttpContext context, int status, ReadOnlyMemory<byte> body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>Sends a body made of already serialized pieces, with one flush.</summary>
    public static async Task WriteAsync(HttpContext context, int status, params ReadOnlyMemory<byte>[] pieces)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var length = 0L;
        foreach (var piece in pieces) length += piece.Length;
        context.Response.ContentLength = length;
        var writer = context.Response.BodyWriter;
        foreach (var piece in pieces) writer.Write(piece.Span);
        await writer.FlushAsync(context.RequestAborted);
    }

    /// <summary>Serializes a body once, for answers that are sent many times.</summary>
    public static byte[] Serialize(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
            write(w);
        return buffer.WrittenSpan.ToArray();
    }

    public static Task WriteErrorAsync(HttpContext context, RestException e) =>
        WriteAsync(context, e.Code, w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteString("message", e.Message);
            w.WriteString("type", e.Type);
            w.WriteNumber("code", e.Code);
            w.WriteEndObject();
            w.WriteEndObject();
        });

    public static void WriteNamespace(Utf8JsonWriter w, Namespace ns)
    {
        w.WriteStartArray();
        foreach (var level in ns.Levels) w.WriteStringValue(level);
        w.WriteEndArray();
    }

    public static void WriteStringMap(Utf8JsonWriter w, IEnumerable<KeyValuePair<string, string>> map)
    {
        w.WriteStartObject();
        foreach (var (k, v) in map) w.WriteString(k, v);
        w.WriteEndObject();
    }

    public static void WriteIdentifier(Utf8JsonWriter w, Namespace ns, string name)
    {
        w.WriteStartObject();
        w.WritePropertyName("namespace");
        WriteNamespace(w, ns);
        w.WriteString("name", name);
        w.WriteEndObject();
    }

    public static void WriteStrings(Utf8JsonWriter w, string property, IEnumerable<string> values)
    {
        w.WriteStartArray(property);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
