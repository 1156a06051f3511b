using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Remediation.Benchmarks;

public sealed record MachineInfo(int Cores, string Cpu, string Os, string Runtime, double MemoryGb, DateTimeOffset Date, string? Commit, bool Dirty)
{
    public static MachineInfo Collect(BenchSettings settings)
    {
        _ = settings;
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
            : "unknown";
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        var commit = Git("rev-parse --short HEAD");
        var dirty = Git("status --porcelain --untracked-files=no") is { Length: > 0 };
        return new MachineInfo(Environment.ProcessorCount, cpu, RuntimeInformation.OSDescription, Environment.Version.ToString(), memory, TimeProvider.System.GetUtcNow(), commit, dirty);
    }

    private static string? Git(string arguments)
    {
        try
        {
            var start = new ProcessStartInfo("git", arguments) { WorkingDirectory = Repo.Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(start);
            if (process is null)
            {
                return null;
            }
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}

public sealed partial class BenchReport
{
    public required MachineInfo Machine { get; init; }
    public required BenchSettings Settings { get; init; }
    public IReadOnlyList<MicroResult> Micro { get; set; } = [];
    public AckFigures? Ack { get; set; }
    public E2eFigures? E2e { get; set; }
    public StormFigures? Storm { get; set; }
    public IReadOnlyList<StartupFigures> Startup { get; set; } = [];
    public double? AzuritePeakRssMb { get; set; }

    private static string F(double v, int digits = 1) => double.IsNaN(v) ? "n/a" : v.ToString("F" + digits, CultureInfo.InvariantCulture);

    private static string Met(bool met) => met ? "met" : "**missed**";

    /// <summary>Targets: (name, target, measured, met).</summary>
    public List<(string Name, string Target, string Measured, bool Met)> Targets()
    {
        var t = new List<(string, string, string, bool)>();
        if (Ack is { } ack)
        {
            var at200 = ack.Runs.FirstOrDefault(r => r.Name.StartsWith("open loop 200/s", StringComparison.Ordinal));
            if (at200 is not null)
            {
                t.Add(("ack p99 at 200 alerts/s", "≤ 50 ms, 0 lost", $"{F(at200.Latency.Percentile(99))} ms, {at200.Lost} lost, {at200.Failed} failed", at200.Latency.Percentile(99) <= 50 && at200.Lost == 0 && at200.Failed == 0));
            }
            var at1000 = ack.Runs.FirstOrDefault(r => r.Name.StartsWith("open loop 1000/s", StringComparison.Ordinal));
            var best = ack.Runs.Where(r => r.Failed == 0 && r.Lost == 0).Select(r => r.AlertsPerSecond).DefaultIfEmpty(0).Max();
            if (at1000 is not null)
            {
                var ok = at1000.Failed == 0 && at1000.Lost == 0 && at1000.AlertsPerSecond >= 990;
                t.Add(("burst of 1,000 alerts/s", "≥ 1,000 alerts/s sustained, 0 lost", $"{F(at1000.AlertsPerSecond, 0)} alerts/s at the 1,000/s schedule (p99 {F(at1000.Latency.Percentile(99))} ms), {at1000.Lost} lost, {at1000.Failed} failed; best {F(best, 0)} alerts/s", ok));
            }
        }
        if (E2e is { } e)
        {
            t.Add(("end-to-end p50", "≤ 1.5 × physical limit", $"{F(e.EndToEnd.Percentile(50))} ms = {F(e.Ratio, 2)} × {F(e.Limit.Percentile(50))} ms", e.Ratio <= 1.5));
            t.Add(("mutating Kubernetes calls per remediation", "≤ 3", F(e.MutatingPerRemediation, 2), e.MutatingPerRemediation <= 3));
        }
        HistoryTargets(t);
        ApprovalTargets(t);
        ServiceGraphTargets(t);
        if (Storm is { } s)
        {
            t.Add(("storm actions", $"exactly {Settings.StormWorkloads}", $"{s.Actions} ({s.WorkloadsActedOnce} workloads acted on exactly once)", s.Actions == Settings.StormWorkloads && s.WorkloadsActedOnce == Settings.StormWorkloads));
            t.Add(("storm drained", "≤ 60 s", s.Drained ? $"{F(s.DrainSeconds)} s" : $"not drained in {F(s.DrainSeconds)} s ({s.NonTerminal} open)", s.Drained && s.DrainSeconds <= 60));
            t.Add(("storm peak RSS (host process)", "≤ 300 MB", s.PeakRssMb is { } rss ? $"{F(rss)} MB" : "n/a", s.PeakRssMb is <= 300));
        }
        return t;
    }

    public string ConsoleTable()
    {
        var b = new StringBuilder();
        b.AppendLine("target                                      | goal                              | measured | ");
        foreach (var (name, target, measured, met) in Targets())
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"{name,-43} | {target,-33} | {measured} | {(met ? "MET" : "MISSED")}");
        }
        return b.ToString();
    }

    public string Markdown()
    {
        var m = Machine;
        var b = new StringBuilder();
        b.AppendLine("# Benchmarks").AppendLine();
        b.AppendLine("Generated by `scripts/bench` (tests/Remediation.Benchmarks): it builds Release, publishes the standalone host with ReadyToRun on and off, starts Azurite (process), the cluster simulator (in-process) and the host on loopback, measures, prints the targets table and rewrites this file. Counts, rates, seeds and payloads are fixed, so runs differ only by the machine. `scripts/bench --quick` is a smoke run (small counts), not a measurement. Re-run rather than edit.").AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"- date: {m.Date:yyyy-MM-dd HH:mm} UTC; commit: {m.Commit ?? "n/a"}{(m.Dirty ? " (with uncommitted changes)" : "")}{(Settings.Quick ? "; **--quick smoke run, not representative**" : "")}");
        b.AppendLine(CultureInfo.InvariantCulture, $"- machine: {m.Cores} cores ({m.Cpu}), {F(m.MemoryGb)} GB, {m.Os}, .NET {m.Runtime}");
        b.AppendLine("- everything on one machine, on loopback: Azurite (node process, in-memory, a fresh one per phase), the cluster simulator (in the bench process), the host and the load generator share the cores, so figures are pessimistic for the host alone.");
        b.AppendLine();
        b.AppendLine("## Targets").AppendLine();
        b.AppendLine("| target | goal | measured | |").AppendLine("|---|---|---|---|");
        foreach (var (name, target, measured, met) in Targets())
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {target} | {measured} | {Met(met)} |");
        }
        if (Ack is { } ack)
        {
            b.AppendLine().AppendLine("## Ack: POST /api/alerts/alertmanager").AppendLine();
            b.AppendLine("In-process standalone host (StandaloneHost.Build, Kestrel on loopback, bearer auth), queue worker off, so the ingest path alone is measured: parse + normalize and claim (Table insert-if-absent) per alert, one enqueue (Storage Queue) per delivery for its new incidents (up to 25 per message), then 202. Alerts/s = alerts answered ÷ time from the first scheduled send to the last answer, so a schedule that is kept reads a hair under its rate. Open loop: each request is scheduled at the rate whatever the answers, and its latency is taken from its *scheduled* send time (no coordinated omission). Closed loop: N senders back to back. Lost = accepted incidents without their row in the table, counted after each run.").AppendLine();
            b.AppendLine("| run | requests | alerts | p50 ms | p99 ms | alerts/s | failed | lost |").AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var r in ack.Runs)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"| {r.Name} | {r.Requests} | {r.Alerts} | {F(r.Latency.Percentile(50))} | {F(r.Latency.Percentile(99))} | {F(r.AlertsPerSecond, 0)} | {r.Failed} | {r.Lost} |");
            }
        }
        if (E2e is { } e)
        {
            b.AppendLine().AppendLine("## End to end, and the physical limit").AppendLine();
            b.AppendLine(CultureInfo.InvariantCulture, $"{e.Incidents} crash-loop alerts on distinct Deployments, open loop at {F(Settings.E2eRate, 0)}/s, into the in-process host with its queue worker (polling 50 ms, backing off to 1 s when idle, woken at once when the host itself queues work) and a policy that restarts crash loops with cooldown 0 s. Times come from the product's own spans: `remediation.ingest` start (alert parsed) → `remediation.act` stop (mutating call acknowledged) → `remediation.record` stop (outcome row and summary row written, one transaction).").AppendLine();
            b.AppendLine(CultureInfo.InvariantCulture, $"Physical limit, measured in the same run against the same Azurite and simulator, one after another: {e.LimitComposition}.").AppendLine();
            b.AppendLine("| | p50 ms | p99 ms |").AppendLine("|---|---|---|");
            b.AppendLine(CultureInfo.InvariantCulture, $"| received → mutating call acknowledged | {F(e.ToMutation.Percentile(50))} | {F(e.ToMutation.Percentile(99))} |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| **received → outcome recorded (end to end)** | {F(e.EndToEnd.Percentile(50))} | {F(e.EndToEnd.Percentile(99))} |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| of which: queue wait (ingest done → worker starts) | {F(e.QueueWait.Percentile(50))} | {F(e.QueueWait.Percentile(99))} |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| of which: worker processing (dequeued → outcome recorded) | {F(e.Processing.Percentile(50))} | {F(e.Processing.Percentile(99))} |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| physical limit (sum of the unavoidable round trips) | {F(e.Limit.Percentile(50))} | {F(e.Limit.Percentile(99))} |");
            b.AppendLine();
            b.AppendLine(CultureInfo.InvariantCulture, $"Ratio end-to-end / limit (p50): **{F(e.Ratio, 2)}**; worker processing alone / limit: {F(e.ProcessingRatio, 2)}. Incidents that acted: {e.Acted}/{e.Incidents}; mutating Kubernetes calls per remediation: {F(e.MutatingPerRemediation, 2)}. Kubernetes reads seen: {string.Join(", ", e.ReadResources)}.");
        }
        if (Storm is { } s)
        {
            b.AppendLine().AppendLine("## Alert storm").AppendLine();
            b.AppendLine(CultureInfo.InvariantCulture, $"{s.Alerts:N0} distinct alerts over {Settings.StormWorkloads} workloads, in groups of {Settings.StormGroupSize} (Alertmanager `max_alerts: 50`), every group delivered 3 times in a shuffled order ({s.Deliveries} requests, {Settings.StormSenders} concurrent senders, a failed delivery retried like Alertmanager does). The host runs as its own process (`dotnet remediation.dll serve`, configured by environment variables, queue concurrency {Settings.StormQueueConcurrency}, sweep every 1 s); policy: restart crash loops, cooldown 1 h, soak 0 s, so each workload is acted on once and every other incident is Refused. Actions are the mutating requests the simulator recorded. Drain: from the first delivery until no incident is Received, Acting or Verifying; the bench polls the work queue's message count (one cheap call) and scans the table only when the queue is empty, so its polling does not load the storage it measures.").AppendLine();
            b.AppendLine("| | |").AppendLine("|---|---|");
            b.AppendLine(CultureInfo.InvariantCulture, $"| deliveries failed after retries | {s.Failed} |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| incidents recorded | {s.Incidents:N0} |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| actions (mutating calls at the simulator) | {s.Actions} (max {s.MutatingPerRemediationMax} per workload) |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| incidents by state | {s.States} (Refused = cooldown, decided before any cluster read; Escalated = diagnosed while its workload was being restarted by an incident that got there first, so the state was unclear and not acted on; NoAction = the workload was healthy again when diagnosed) |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| all delivered after | {F(s.IngestSeconds)} s |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| drained after | {(s.Drained ? F(s.DrainSeconds) + " s" : "not drained (" + F(s.DrainSeconds) + " s)")} |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| host peak RSS (VmHWM) | {(s.PeakRssMb is { } p ? F(p) + " MB" : "n/a")} |");
            if (AzuritePeakRssMb is { } az)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"| Azurite peak RSS, largest of the phases (for scale) | {F(az)} MB |");
            }
        }
        HistorySection(b);
        ApprovalSection(b);
        ServiceGraphSection(b);
        if (Startup.Count > 0)
        {
            b.AppendLine().AppendLine("## Start → ready").AppendLine();
            b.AppendLine("Measured: the standalone host (`dotnet remediation.dll serve`), published framework-dependent for linux-x64 with `-p:PublishReadyToRun=true` and `false`, from `Process.Start` until the first 200 on `GET /healthz` (5 ms polls), queue worker and sweep enabled, against the bench's Azurite. The Functions worker itself is not measured: that needs the Functions host (Core Tools), which is not here; the standalone host loads the same Remediation.Core, Azure SDK and KubernetesClient assemblies on the same ASP.NET Core stack. One warm-up round (file cache) is discarded; runs alternate between the variants.").AppendLine();
            b.AppendLine("| variant | runs | p50 ms | min ms | max ms |").AppendLine("|---|---|---|---|---|");
            foreach (var f in Startup)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"| {f.Variant} | {f.ReadyMs.Count} | {F(f.ReadyMs.Percentile(50), 0)} | {F(f.ReadyMs.Percentile(0), 0)} | {F(f.ReadyMs.Percentile(100), 0)} |");
            }
        }
        if (Micro.Count > 0)
        {
            b.AppendLine().AppendLine("## Hot paths (BenchmarkDotNet)").AppendLine();
            b.AppendLine("In-process toolchain, short job (1 launch, 3 warm-up and 5 measured iterations): indicative, not publication-grade.").AppendLine();
            b.AppendLine("| benchmark | mean | ± (99.9% CI) | allocated |").AppendLine("|---|---|---|---|");
            foreach (var r in Micro)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"| {r.Benchmark} | {Ns(r.MeanNs)} | {Ns(r.ErrorNs)} | {(r.AllocatedBytes is { } a ? a.ToString("N0", CultureInfo.InvariantCulture) + " B" : "n/a")} |");
            }
        }
        b.AppendLine().AppendLine(Notes);
        return b.ToString();
    }

    /// <summary>Method notes: what each figure includes, where the time goes, what was made faster.</summary>
    public const string Notes = """
        ## Notes

        - **Storage calls per alert (ingest).** New alert: one Table insert (the claim; insert-if-absent). The new incidents of one
          delivery share their queue messages (up to 25 work items per message), so a storm delivery of 50 alerts costs 2 queue sends,
          not 50. Duplicate delivery: the insert answers 409, and nothing else is done. Claims of different incidents are in different
          partitions, so they cannot be batched into one transaction.
        - **Storage calls per incident (worker).** Read the incident, read the ledger (safety limits checked before any cluster
          read), the Kubernetes reads, the count of remediations in flight (one partition, not a table scan), read + write the
          ledger to reserve, the in-flight row, intent row + summary row in *one* entity group transaction, the mutation, outcome row + summary row in one transaction, a delayed queue message for the first verification
          check, and the queue delete (shared by the message's items). A refused incident is three calls: read, ledger read, one
          transaction. The physical limit counts one claim write, the Kubernetes reads, one patch and one record write; the rest
          (queue hop, the ledger that enforces cooldowns, the summary row the history reads) is what the product pays for
          exactly-once acting and its safety limits.
        - **Verification** runs as delayed queue messages: at the end of the soak, then every `Remediation:VerifyPollInterval`
          (5 s), and at the deadline. The sweep (every 15 s in the Functions app) is the safety net for a lost message.
        - **Queue wait**: the standalone host's queue worker is woken as soon as the host queues work itself (its webhooks), and
          otherwise polls (50 ms, doubling to 1 s while idle); the Functions host likewise notifies its queue listener of messages
          the app adds, and polls with `maxPollingInterval` 2 s (host.json). It is part of end-to-end and reported apart.
        - **What made it fast on Azurite** (found by profiling Azurite with `node --prof`, via `REMEDIATION_BENCH_NODE_ARGS`):
          Azurite keeps tables and queues in LokiJS collections. Deleting a queue message rebuilt the collection's indexes, so each
          delete cost time proportional to the queue's depth: shared messages keep the queue 25 times shallower. A point read or
          insert looks a row up by its RowKey index and then walks every row with that RowKey: incident rows now carry the incident
          id in their row key (`incident|{id}`, `intent|{id}`, `outcome|{id}`), so each lookup is one row, not one per incident
          recorded. Azurite's own telemetry is off (`--disableTelemetry`). Azure Storage itself is indifferent to both.
        - **Also in place:** the alerts of one delivery are claimed concurrently (at most 8 at a time; alerts of the same incident
          stay in order); intent and outcome rows are written with the summary row in one transaction; source-generated JSON,
          singleton table/queue/Kubernetes clients (pooled connections), bounded worker concurrency
          (`Remediation:Host:QueueConcurrency`), no sync-over-async.
        - **Shared machine.** Azurite (single-threaded node), the simulator, the host and the load generator compete for the same
          2 cores; in the storm, Azurite's one core is the bottleneck.
        """;

    private static string Ns(double ns) => double.IsNaN(ns) ? "n/a" : ns >= 1_000_000 ? F(ns / 1_000_000, 2) + " ms" : ns >= 1_000 ? F(ns / 1_000, 2) + " µs" : F(ns, 0) + " ns";
}
