using System.Diagnostics;

namespace DataPlane.Slurper.Progress;

/// <summary>Shows progress: on a terminal a bar redrawn in place a few times a second (objects, bytes, rate, ETA);
/// elsewhere (logs, CI, pipes) one line per interval, so log files stay readable.</summary>
internal sealed class ProgressReporter(SlurpCounters counters, TextWriter output, bool interactive, TimeSpan logInterval)
{
    readonly Stopwatch clock = Stopwatch.StartNew();

    public async Task RunAsync(CancellationToken ct)
    {
        var interval = interactive ? TimeSpan.FromMilliseconds(250) : logInterval;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(interval, ct);
                Write();
            }
        }
        catch (OperationCanceledException) { }
        if (interactive) output.WriteLine();
    }

    void Write()
    {
        var line = Line();
        if (interactive) output.Write("\r" + line.PadRight(Math.Min(160, Math.Max(line.Length, 100))));
        else output.WriteLine(line);
        output.Flush();
    }

    internal string Line()
    {
        var elapsed = clock.Elapsed.TotalSeconds;
        var done = counters.DoneObjects;
        var total = counters.ListedObjects;
        var bytes = counters.DoneBytes;
        var totalBytes = counters.ListedBytes;
        var rate = elapsed > 0 ? bytes / elapsed : 0;
        var objectRate = elapsed > 0 ? done / elapsed : 0;
        string eta;
        if (!counters.ListingDone) eta = "listing";
        else if (rate <= 0 && objectRate <= 0) eta = "--:--";
        else
        {
            // Whichever of bytes and objects is further behind decides: many small objects are bound by requests.
            var byBytes = rate > 0 ? (totalBytes - bytes) / rate : 0;
            var byObjects = objectRate > 0 ? (total - done) / objectRate : 0;
            eta = Units.Duration(TimeSpan.FromSeconds(Math.Max(byBytes, byObjects)));
        }
        var fraction = total > 0 ? (double)done / total : 0;
        var bar = interactive ? "[" + new string('#', (int)(fraction * 24)).PadRight(24, '.') + "] " : "";
        var failed = counters.FailedObjects > 0 ? $", {counters.FailedObjects} failed" : "";
        var skipped = counters.SkippedObjects > 0 ? $", {counters.SkippedObjects} skipped" : "";
        return $"{bar}{done}/{total}{(counters.ListingDone ? "" : "+")} objects, {Units.Bytes(bytes)}/{Units.Bytes(totalBytes)}, " +
               $"{Units.Bytes((long)rate)}/s, {objectRate:0} obj/s, ETA {eta}{skipped}{failed}";
    }
}
