using System.Globalization;
using System.Text;

namespace Remediation.Benchmarks;

/// <summary>The storm, its growth and the soak: targets and sections.</summary>
public sealed partial class BenchReport
{
    public GrowthFigures? Growth { get; set; }
    public SoakFigures? Soak { get; set; }

    private void StormTargets(List<(string Name, string Target, string Measured, bool Met)> t)
    {
        if (Storm is { } s)
        {
            t.Add(("storm actions", $"exactly {Settings.StormWorkloads}", $"{s.Actions} ({s.WorkloadsActedOnce} workloads acted on exactly once)", s.Actions == Settings.StormWorkloads && s.WorkloadsActedOnce == Settings.StormWorkloads));
            t.Add(("storm drained", "≤ 60 s", s.Drained ? $"{F(s.DrainSeconds)} s" : $"not drained in {F(s.DrainSeconds)} s ({s.NonTerminal} open)", s.Drained && s.DrainSeconds <= 60));
            t.Add(("storm peak RSS (host process)", "≤ 300 MB", s.PeakRssMb is { } rss ? $"{F(rss)} MB" : "n/a", s.PeakRssMb is <= 300));
        }
        if (Storm is { LimitRatio: { } ratio } limited)
        {
            t.Add(("storm drain vs its storage limit", "≤ 1.5 × limit", $"{F(limited.DrainSeconds)} s = {F(ratio, 2)} × {F(limited.LimitSeconds ?? double.NaN)} s", ratio <= 1.5));
        }
        if (Growth is { Steps.Count: > 1 } g)
        {
            var worst = g.CostRises.Max();
            t.Add(("growth: cost per alert, each step", "rises ≤ 25 %", string.Join(", ", g.Steps.Select(x => $"{F(x.CostMs, 2)} ms at {x.Alerts:N0}")) + $" (worst step ×{F(worst, 2)}; exponents {string.Join(", ", g.Exponents.Select(e => F(e, 2)))}"
                + (g.LimitRises.All(l => l is not null) ? $"; the storage limit's own steps {string.Join(", ", g.LimitRises.Select(l => "×" + F(l!.Value, 2)))})" : ")"), worst <= 1.25 && g.Steps.All(x => x.Storm.Drained)));
            var largest = g.Steps[^1];
            t.Add(($"growth: host peak RSS at {largest.Alerts:N0} alerts", "≤ 300 MB", largest.Storm.PeakRssMb is { } r ? $"{F(r)} MB" : "n/a", largest.Storm.PeakRssMb is <= 300));
        }
        if (Soak is { } k)
        {
            t.Add(($"soak {F(k.Rate, 0)}/s for {F(k.Seconds / 60, 1)} min: lost", "0 lost", $"{k.Lost} lost, {k.Failed} failed, {(k.Drained ? "drained" : "**not drained**")}", k.Lost == 0 && k.Failed == 0 && k.Drained));
            t.Add(("soak: host RSS slope after warm-up", "≤ 1 MB/minute", $"{F(k.RssSlopeMbPerMinute, 2)} MB/minute", k.RssSlopeMbPerMinute <= 1));
            t.Add(("soak: ack p99, last minute vs first", "≤ 1.5 ×", $"{F(k.AckPerMinute[^1].Percentile(99))} ms vs {F(k.AckPerMinute[0].Percentile(99))} ms (×{F(k.AckP99Drift, 2)})", k.AckP99Drift <= 1.5));
        }
    }

    private void StormSections(StringBuilder b)
    {
        if (Storm is { } s)
        {
            b.AppendLine().AppendLine("## Alert storm").AppendLine();
            b.AppendLine(CultureInfo.InvariantCulture, $"{s.Alerts:N0} distinct alerts over {Settings.StormWorkloads} workloads, in groups of {Settings.StormGroupSize} (Alertmanager `max_alerts: 50`), every group delivered 3 times in a shuffled order ({s.Deliveries} requests, {Settings.StormSenders} concurrent senders, a failed delivery retried like Alertmanager does). The host runs as its own process (`dotnet remediation.dll serve`, configured by environment variables, queue concurrency {Settings.StormQueueConcurrency}, the sweep at its default interval, 5 s); policy: restart crash loops, cooldown 1 h, soak 0 s, so each workload is acted on once and every other incident is Refused. Actions are the mutating requests the simulator recorded. Drain: from the first delivery until no incident is Received, Acting or Verifying. So that its polling does not load the storage it measures, the bench waits on two small signals, the work queue's message count and the in-flight table (both empty), then confirms with scans of the incidents table (nothing open, every alert recorded, no write by the host while it scanned); the drain ends when the signals said so, not when the scans (seconds each at 100,000 rows under Azurite) returned.").AppendLine();
            b.AppendLine("| | |").AppendLine("|---|---|");
            b.AppendLine(CultureInfo.InvariantCulture, $"| deliveries failed after retries | {s.Failed} |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| incidents recorded | {s.Incidents:N0} |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| actions (mutating calls at the simulator) | {s.Actions} (max {s.MutatingPerRemediationMax} per workload) |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| cluster requests (the simulator's log), by verb and resource | {s.ClusterRequests} |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| incidents by state | {s.States} (Refused = cooldown, decided before any cluster read; Escalated = diagnosed while its workload was being restarted by an incident that got there first, so the state was unclear and not acted on; NoAction = the workload was healthy again when diagnosed) |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| all delivered after | {F(s.IngestSeconds)} s |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| drained after | {(s.Drained ? F(s.DrainSeconds) + " s" : "not drained (" + F(s.DrainSeconds) + " s)")} |");
            b.AppendLine(CultureInfo.InvariantCulture, $"| host peak RSS (VmHWM) | {(s.PeakRssMb is { } p ? F(p) + " MB" : "n/a")} |");
            if (s.LimitSeconds is { } limit)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"| storm's storage limit (same Azurite, fresh table, right after) | {F(limit)} s: {s.LimitComposition} |");
                b.AppendLine(CultureInfo.InvariantCulture, $"| drain / storage limit | **{F(s.LimitRatio ?? double.NaN, 2)}** |");
            }
            if (s.Storage is { } counted)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"| storage requests counted by the host, per alert | {counted.Per(s.Alerts)} |");
            }
            if (AzuritePeakRssMb is { } az)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"| Azurite peak RSS, largest of the phases (for scale) | {F(az)} MB |");
            }
        }
        GrowthSection(b);
        SoakSection(b);
    }

    private void GrowthSection(StringBuilder b)
    {
        if (Growth is not { } g)
        {
            return;
        }
        b.AppendLine().AppendLine("## Growth").AppendLine();
        b.AppendLine("The same storm (groups of 50, each delivered 3 times, 8 senders, host process, queue concurrency as above) at growing sizes, each on a fresh Azurite and a fresh simulator holding exactly its workloads. Cost per alert = drain time ÷ alerts. Exponent = log(t2/t1) / log(n2/n1) against the size before: 1 is linear, above 1 the cost per alert grows. After each size, its storage limit on the same Azurite (as in the storm: every claim insert and one summary write per incident, issued directly at the storm's concurrency, in a fresh table): where the storage's own time per alert rises from one size to the next, the product's cannot do better.").AppendLine();
        b.AppendLine("| alerts | workloads | drained after s | ms per alert | vs size before | exponent | storage limit s | limit ms per alert | limit vs size before | drain / limit | host peak RSS MB | storage requests per alert | actions | states |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        var rises = g.CostRises.ToList();
        var exponents = g.Exponents.ToList();
        var limitRises = g.LimitRises.ToList();
        for (var i = 0; i < g.Steps.Count; i++)
        {
            var x = g.Steps[i];
            var drained = x.Storm.Drained ? F(x.Storm.DrainSeconds) : $"not drained ({F(x.Storm.DrainSeconds)})";
            var limit = x.Storm.LimitSeconds is { } l ? $"{F(l)} | {F(l * 1000 / x.Alerts, 2)} | {(i > 0 && limitRises[i - 1] is { } lr ? "×" + F(lr, 2) : "")} | {F(x.Storm.LimitRatio!.Value, 2)}" : "n/a | n/a | | n/a";
            b.AppendLine(CultureInfo.InvariantCulture, $"| {x.Alerts:N0} | {x.Workloads:N0} | {drained} | {F(x.CostMs, 2)} | {(i == 0 ? "" : "×" + F(rises[i - 1], 2))} | {(i == 0 ? "" : F(exponents[i - 1], 2))} | {limit} | {(x.Storm.PeakRssMb is { } r ? F(r) : "n/a")} | {(x.Storm.Storage is { } c ? F(c.Total / x.Alerts, 2) : "n/a")} | {x.Storm.Actions} | {x.Storm.States} |");
        }
        b.AppendLine();
        foreach (var x in g.Steps.Where(x => x.Storm.ClusterRequests is not null))
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"- cluster requests at {x.Alerts:N0} alerts: {x.Storm.ClusterRequests}");
        }
    }

    private void SoakSection(StringBuilder b)
    {
        if (Soak is not { } k)
        {
            return;
        }
        b.AppendLine().AppendLine("## Soak").AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"Distinct single-alert deliveries at {F(k.Rate, 0)}/s (open loop, latency from each request's scheduled time to its accepting answer; a refused delivery is retried with backoff as Alertmanager does, and failed means still refused after ten attempts) for {F(k.Seconds, 0)} s into the host process with its queue worker and sweep on, on a simulator of its own with crash-looping workloads (policy as in the storm: most incidents Refused by cooldown). The host's RSS (VmRSS) is sampled every 2 s; its slope is a least-squares fit over the samples after the {F(k.WarmUpSeconds, 0)} s warm-up. After the last delivery the bench waits until every incident is terminal, then counts accepted incidents without their row (lost).").AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"Sent {k.Sent:N0}, failed {k.Failed}, lost {k.Lost}, {(k.Drained ? "all terminal" : "**not all terminal within 5 minutes**")}; RSS slope {F(k.RssSlopeMbPerMinute, 2)} MB/minute over {k.Rss.Count(p => p.Seconds >= k.WarmUpSeconds)} samples; host peak RSS {(k.PeakRssMb is { } p ? F(p) + " MB" : "n/a")}.").AppendLine();
        b.AppendLine("| period | deliveries | ack p50 ms | ack p99 ms | RSS at its end MB |").AppendLine("|---|---|---|---|---|");
        var period = k.Seconds / k.AckPerMinute.Count;
        for (var i = 0; i < k.AckPerMinute.Count; i++)
        {
            var m = k.AckPerMinute[i];
            var end = (i + 1) * period;
            var rss = k.Rss.Where(r => r.Seconds <= end).Select(r => r.Mb).DefaultIfEmpty(double.NaN).Last();
            b.AppendLine(CultureInfo.InvariantCulture, $"| {F(i * period, 0)}–{F(end, 0)} s | {m.Count:N0} | {F(m.Percentile(50))} | {F(m.Percentile(99))} | {F(rss)} |");
        }
    }
}
