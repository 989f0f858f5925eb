using System.CommandLine;
using DataPlane.Commands;

// `dataplane <command>`: one file per command group under Commands/.
var root = new RootCommand("DataPlane: streams into Iceberg tables, an Iceberg REST catalog, bulk object migration and a replicated SQLite database.");
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(NamespaceCommand.Create());
root.Subcommands.Add(SlurpCommand.Create());
root.Subcommands.Add(TableCommand.Create());
root.Subcommands.Add(DbCommand.Create());
root.Subcommands.Add(StreamCommand.Create());
root.Subcommands.Add(SinkCommand.Create());
root.Subcommands.Add(PipelineCommand.Create());
root.Subcommands.Add(SqlCommand.Create());
return await root.Parse(args).InvokeAsync();
