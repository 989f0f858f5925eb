using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;

namespace DataPlane.Commands;

/// <summary><c>dataplane pipeline create|list|describe|delete</c>: <c>INSERT INTO sink SELECT ... FROM stream</c> pipelines.</summary>
internal static class PipelineCommand
{
    public static Command Create()
    {
        var command = new Command("pipeline", "Create, list, describe and delete pipelines on a running DataPlane server.");

        var name = new Argument<string>("name") { Description = "Pipeline name: [a-z][a-z0-9_]*" };
        var sql = new Option<string>("--sql") { Description = "INSERT INTO <sink> SELECT ... FROM <stream> [WHERE ...]; one statement per sink, separated by ;", Required = true };
        var deadLetter = new Option<string?>("--dead-letter") { Description = "A sink that receives the records the SQL fails on (a CAST that does not convert...), with the reason" };
        var create = new Command("create", "Create and start a pipeline") { name, sql, deadLetter };
        create.SetAction((r, ct) => ManagementApi.Run(r, async http =>
        {
            var created = await ManagementApi.SendAsync(http, HttpMethod.Post, "api/v1/pipelines",
                JsonSerializer.Serialize(new Dictionary<string, string?> { ["name"] = r.GetValue(name), ["sql"] = r.GetValue(sql), ["dead_letter"] = r.GetValue(deadLetter) }), ct);
            AnsiConsole.MarkupLineInterpolated($"Pipeline [bold]{created.GetProperty("name").GetString()}[/] created: {created.GetProperty("stream").GetString()} -> {Sinks(created)}");
        }));
        command.Subcommands.Add(create);

        var list = new Command("list", "List pipelines");
        list.SetAction((r, ct) => ManagementApi.Run(r, async http =>
        {
            var pipelines = await ManagementApi.SendAsync(http, HttpMethod.Get, "api/v1/pipelines", (string?)null, ct);
            var table = new Table().AddColumns("name", "state", "stream -> sink", "committed", "lag records", "lag s");
            foreach (var p in pipelines.GetProperty("pipelines").EnumerateArray())
                table.AddRow(Markup.Escape(p.GetProperty("name").GetString()!), p.GetProperty("state").GetString()!,
                    Markup.Escape($"{p.GetProperty("stream").GetString()} -> {Sinks(p)}"),
                    p.GetProperty("offsets").GetProperty("committed").ToString(), p.GetProperty("lag").GetProperty("records").ToString(),
                    p.GetProperty("lag").GetProperty("seconds").ToString());
            AnsiConsole.Write(table);
        }));
        command.Subcommands.Add(list);

        var describeName = new Argument<string>("name");
        var describe = new Command("describe", "Show a pipeline's state, offsets, lag, last commit and errors") { describeName };
        describe.SetAction((r, ct) => ManagementApi.Run(r, async http =>
        {
            var p = await ManagementApi.SendAsync(http, HttpMethod.Get, $"api/v1/pipelines/{r.GetValue(describeName)}", (string?)null, ct);
            // Printed for people: SQL such as "WHERE value < 10" stays as written instead of "\u003C".
            Console.WriteLine(JsonSerializer.Serialize(p, new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        }));
        command.Subcommands.Add(describe);

        var deleteName = new Argument<string>("name");
        var delete = new Command("delete", "Stop and delete a pipeline (its sink's data stays)") { deleteName };
        delete.SetAction((r, ct) => ManagementApi.Run(r, async http =>
        {
            await ManagementApi.SendAsync(http, HttpMethod.Delete, $"api/v1/pipelines/{r.GetValue(deleteName)}", (string?)null, ct);
            AnsiConsole.MarkupLineInterpolated($"Pipeline [bold]{r.GetValue(deleteName)}[/] deleted");
        }));
        command.Subcommands.Add(delete);

        foreach (var sub in command.Subcommands)
            ManagementApi.AddConnectionOptions(sub);
        return command;
    }

    /// <summary>The sinks a pipeline writes, its dead-letter sink marked: "clean, tags (dead letters: failed)".</summary>
    private static string Sinks(JsonElement pipeline)
    {
        if (!pipeline.TryGetProperty("sinks", out var sinks) || sinks.ValueKind != JsonValueKind.Array)
            return pipeline.TryGetProperty("sink", out var sink) ? sink.GetString() ?? "" : "";
        var writes = sinks.EnumerateArray().Where(x => x.GetProperty("role").GetString() != "dead_letter").Select(x => x.GetProperty("name").GetString());
        var deadLetter = sinks.EnumerateArray().Where(x => x.GetProperty("role").GetString() == "dead_letter").Select(x => x.GetProperty("name").GetString()).FirstOrDefault();
        return string.Join(", ", writes) + (deadLetter is null ? "" : $" (dead letters: {deadLetter})");
    }
}
