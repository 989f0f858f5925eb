using System.CommandLine;
using DataPlane.Slurper;
using DataPlane.Storage;

namespace DataPlane.Commands;

/// <summary><c>dataplane slurp</c>: verified, resumable bulk copy between object stores; <c>slurp status</c>; <c>slurp worker</c>.</summary>
internal static class SlurpCommand
{
    sealed class SideOptions(string side)
    {
        public readonly Option<string?> Endpoint = new($"--{side}-endpoint") { Description = $"S3 endpoint URL of the {Name(side)} (env DATAPLANE_SLURP_{side.ToUpperInvariant()}_ENDPOINT)" };
        public readonly Option<string?> AccessKey = new($"--{side}-access-key") { Description = $"Access key of the {Name(side)} (env DATAPLANE_SLURP_{side.ToUpperInvariant()}_ACCESS_KEY)" };
        public readonly Option<string?> SecretKey = new($"--{side}-secret-key") { Description = $"Secret key of the {Name(side)} (env DATAPLANE_SLURP_{side.ToUpperInvariant()}_SECRET_KEY)" };
        public readonly Option<string?> SessionToken = new($"--{side}-session-token") { Description = $"Session token of the {Name(side)}'s temporary credentials (env DATAPLANE_SLURP_{side.ToUpperInvariant()}_SESSION_TOKEN)" };
        public readonly Option<string?> Region = new($"--{side}-region") { Description = $"Region of the {Name(side)} (default us-east-1)" };
        public readonly Option<bool?> PathStyle = new($"--{side}-path-style") { Description = $"Path-style addressing of the {Name(side)} (default true; false: virtual-hosted, bucket.endpoint)" };
        public readonly Option<string?> Profile = new($"--{side}-profile") { Description = $"Section of the profile file with the {Name(side)}'s endpoint and keys" };

        static string Name(string side) => side == "from" ? "source" : "destination";
        public IEnumerable<Option> All => [Endpoint, AccessKey, SecretKey, SessionToken, Region, PathStyle, Profile];
        public EndpointResolver.Flags Flags(ParseResult r) =>
            new(r.GetValue(Endpoint), r.GetValue(AccessKey), r.GetValue(SecretKey), r.GetValue(Region), r.GetValue(Profile),
                r.GetValue(SessionToken), r.GetValue(PathStyle));
    }

    public static Command Create()
    {
        var from = new Option<string?>("--from") { Description = "Source: s3://bucket[/prefix] or a local folder" };
        var to = new Option<string?>("--to") { Description = "Destination: s3://bucket[/prefix] or a local folder" };
        var fromSide = new SideOptions("from");
        var toSide = new SideOptions("to");
        var profileFile = new Option<string?>("--profile-file") { Description = $"INI file of endpoint profiles (default ~/.dataplane/{EndpointResolver.DefaultProfileFileName})" };
        var include = new Option<string[]>("--include") { Description = "Copy only keys matching this glob (repeatable; * within a segment, ** across)" };
        var exclude = new Option<string[]>("--exclude") { Description = "Leave out keys matching this glob (repeatable)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would be copied; write nothing" };
        var skipExisting = new Option<bool>("--skip-existing") { Description = "Leave destination objects with the same size and ETag alone (default: overwrite)" };
        var maxSize = new Option<string?>("--max-size") { Description = "Skip (and report) objects larger than this, e.g. 5GB" };
        var concurrency = new Option<int>("--concurrency") { Description = "Objects copied at once", DefaultValueFactory = _ => 64 };
        var listConcurrency = new Option<int>("--list-concurrency") { Description = "List requests at once", DefaultValueFactory = _ => 8 };
        var multipartThreshold = new Option<string>("--multipart-threshold") { Description = "Copy objects this large as parallel multipart uploads", DefaultValueFactory = _ => "32MiB" };
        var partSize = new Option<string>("--part-size") { Description = "Multipart part size (at least 5MiB)", DefaultValueFactory = _ => "16MiB" };
        var partConcurrency = new Option<int>("--part-concurrency") { Description = "Parts of one object in flight at once", DefaultValueFactory = _ => 4 };
        var attempts = new Option<int>("--attempts") { Description = "Attempts per object before it goes to the dead-letter list", DefaultValueFactory = _ => 6 };
        var lease = new Option<int>("--lease-seconds") { Description = "How long a worker holds a batch without renewing it", DefaultValueFactory = _ => 30 };
        var job = new Option<string?>("--job") { Description = "Job id: names the journal; the same id resumes an unfinished run (default: from source and destination)" };
        var journal = new Option<string?>("--journal") { Description = "Job journal (SQLite) path (default ~/.dataplane/slurp/JOB.db)" };
        var report = new Option<string?>("--report") { Description = "Final report path (default next to the journal, JOB.report.tsv)" };
        var queue = new Option<string>("--queue") { Description = "sqlite (embedded) or kafka (publish for `slurp worker` processes)", DefaultValueFactory = _ => "sqlite" };
        var brokers = new Option<string?>("--kafka-brokers") { Description = "Kafka bootstrap servers for --queue kafka (env DATAPLANE_KAFKA_BROKERS)" };
        var kafkaConfig = new Option<string[]>("--kafka-config") { Description = "librdkafka setting key=value (repeatable), e.g. api.version.request=false" };
        var progress = new Option<string>("--progress") { Description = "auto, bar or log", DefaultValueFactory = _ => "auto" };
        var logInterval = new Option<int>("--log-interval") { Description = "Seconds between progress log lines when not on a terminal", DefaultValueFactory = _ => 10 };

        var command = new Command("slurp", "Copy objects between object stores: parallel listing, verified copies, resumable.")
        {
            from, to, profileFile, include, exclude, dryRun, skipExisting, maxSize, concurrency, listConcurrency, multipartThreshold,
            partSize, partConcurrency, attempts, lease, job, journal, report, queue, brokers, kafkaConfig, progress, logInterval,
        };
        foreach (var o in fromSide.All.Concat(toSide.All)) command.Options.Add(o);

        command.SetAction(async (r, ct) => await Guarded("slurp", async () =>
        {
            var fromValue = r.GetValue(from) ?? throw new ArgumentException("--from is required: s3://bucket[/prefix] or a local folder.");
            var toValue = r.GetValue(to) ?? throw new ArgumentException("--to is required: s3://bucket[/prefix] or a local folder.");
            var queueKind = r.GetValue(queue)?.ToLowerInvariant() switch
            {
                "sqlite" => QueueKind.Sqlite,
                "kafka" => QueueKind.Kafka,
                var other => throw new ArgumentException($"--queue '{other}' is not a queue: use sqlite or kafka."),
            };
            var options = new SlurpOptions
            {
                Source = EndpointResolver.Resolve("from", fromValue, fromSide.Flags(r), r.GetValue(profileFile)),
                Destination = EndpointResolver.Resolve("to", toValue, toSide.Flags(r), r.GetValue(profileFile)),
                JobId = r.GetValue(job),
                JournalPath = r.GetValue(journal),
                ReportPath = r.GetValue(report),
                Include = r.GetValue(include) ?? [],
                Exclude = r.GetValue(exclude) ?? [],
                DryRun = r.GetValue(dryRun),
                SkipExisting = r.GetValue(skipExisting),
                MaxObjectSize = r.GetValue(maxSize) is { } m ? ByteSize.Parse(m, "--max-size") : null,
                Concurrency = Positive(r.GetValue(concurrency), "--concurrency"),
                ListConcurrency = Positive(r.GetValue(listConcurrency), "--list-concurrency"),
                MultipartThreshold = ByteSize.Parse(r.GetValue(multipartThreshold)!, "--multipart-threshold"),
                PartSize = PartSize(r.GetValue(partSize)!),
                PartConcurrency = Positive(r.GetValue(partConcurrency), "--part-concurrency"),
                Retry = new RetryPolicy { MaxAttempts = Positive(r.GetValue(attempts), "--attempts") },
                Lease = TimeSpan.FromSeconds(Positive(r.GetValue(lease), "--lease-seconds")),
                Queue = queueKind,
                Kafka = queueKind == QueueKind.Kafka ? Kafka(r.GetValue(brokers), r.GetValue(kafkaConfig)) : null,
                Interactive = Interactive(r.GetValue(progress)!),
                LogInterval = TimeSpan.FromSeconds(Positive(r.GetValue(logInterval), "--log-interval")),
            };
            var result = await SlurpRunner.RunAsync(options, ct);
            return options.DryRun || options.Queue == QueueKind.Kafka || result.Succeeded ? 0 : 1;
        }));

        var statusJob = new Option<string?>("--job") { Description = "Job id" };
        var statusJournal = new Option<string?>("--journal") { Description = "Journal path (default ~/.dataplane/slurp/JOB.db)" };
        var status = new Command("status", "Show a job's counts, bytes, rate and failures from its journal.") { statusJob, statusJournal };
        status.SetAction((r, _) => Guarded("slurp status", () =>
        {
            var id = r.GetValue(statusJob);
            var path = r.GetValue(statusJournal);
            if (id is null && path is null) throw new ArgumentException("--job (or --journal) is required.");
            Console.WriteLine(SlurpRunner.Status(id ?? Path.GetFileNameWithoutExtension(path!), path).Describe());
            return Task.FromResult(0);
        }));
        command.Subcommands.Add(status);

        var workerJob = new Option<string?>("--job") { Description = "Job id as published with `slurp --queue kafka --job`" };
        var workerBrokers = new Option<string?>("--kafka-brokers") { Description = "Kafka bootstrap servers (env DATAPLANE_KAFKA_BROKERS)" };
        var workerKafkaConfig = new Option<string[]>("--kafka-config") { Description = "librdkafka setting key=value (repeatable)" };
        var workerJournal = new Option<string?>("--journal") { Description = "This worker's journal (default ~/.dataplane/slurp/JOB.worker.db)" };
        var workerReport = new Option<string?>("--report") { Description = "This worker's report path" };
        var workerConcurrency = new Option<int>("--concurrency") { Description = "Objects copied at once", DefaultValueFactory = _ => 64 };
        var workerAttempts = new Option<int>("--attempts") { Description = "Attempts per object before the dead-letter list", DefaultValueFactory = _ => 6 };
        var workerProgress = new Option<string>("--progress") { Description = "auto, bar or log", DefaultValueFactory = _ => "auto" };
        var workerFrom = new SideOptions("from");
        var workerTo = new SideOptions("to");
        var worker = new Command("worker", "Copy a job's objects from its Kafka topic, sharing the partitions with the job's other workers.")
        {
            workerJob, workerBrokers, workerKafkaConfig, workerJournal, workerReport, workerConcurrency, workerAttempts, workerProgress, profileFile,
        };
        foreach (var o in workerFrom.All.Concat(workerTo.All)) worker.Options.Add(o);
        worker.SetAction(async (r, ct) => await Guarded("slurp worker", async () =>
        {
            var id = r.GetValue(workerJob) ?? throw new ArgumentException("--job is required: the id the job was published with.");
            var profiles = r.GetValue(profileFile);
            var result = await SlurpWorker.RunAsync(new SlurpWorkerOptions
            {
                JobId = id,
                Kafka = Kafka(r.GetValue(workerBrokers), r.GetValue(workerKafkaConfig)),
                ResolveEndpoint = (side, location, endpoint) =>
                {
                    var flags = (side == "from" ? workerFrom : workerTo).Flags(r);
                    return EndpointResolver.Resolve(side, location, flags with { Endpoint = flags.Endpoint ?? endpoint }, profiles);
                },
                JournalPath = r.GetValue(workerJournal),
                ReportPath = r.GetValue(workerReport),
                Concurrency = Positive(r.GetValue(workerConcurrency), "--concurrency"),
                Retry = new RetryPolicy { MaxAttempts = Positive(r.GetValue(workerAttempts), "--attempts") },
                Interactive = Interactive(r.GetValue(workerProgress)!),
            }, ct);
            return result.Succeeded ? 0 : 1;
        }));
        command.Subcommands.Add(worker);
        return command;
    }

    static async Task<int> Guarded(string name, Func<Task<int>> run)
    {
        try
        {
            return await run();
        }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or InvalidOperationException or NotSupportedException)
        {
            Console.Error.WriteLine($"dataplane {name}: {e.Message}");
            return 2;
        }
    }

    static int Positive(int value, string option) =>
        value > 0 ? value : throw new ArgumentException($"{option} {value} must be at least 1.");

    static long PartSize(string text)
    {
        var size = ByteSize.Parse(text, "--part-size");
        return size >= 5L * 1024 * 1024 ? size : throw new ArgumentException($"--part-size '{text}' is below S3's 5MiB minimum part size.");
    }

    static bool? Interactive(string mode) => mode.ToLowerInvariant() switch
    {
        "auto" => null,
        "bar" => true,
        "log" => false,
        _ => throw new ArgumentException($"--progress '{mode}' is not a mode: use auto, bar or log."),
    };

    static KafkaSettings Kafka(string? brokers, string[]? config)
    {
        brokers ??= Environment.GetEnvironmentVariable("DATAPLANE_KAFKA_BROKERS");
        if (string.IsNullOrWhiteSpace(brokers)) throw new ArgumentException("--kafka-brokers is required for the Kafka queue (host:port[,host:port]).");
        return new KafkaSettings(brokers) { Config = KafkaSettings.ParseConfig(config ?? []) };
    }
}
