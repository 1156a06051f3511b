using System.Globalization;
using System.Text;

namespace Remediation.Benchmarks;

/// <summary>The end-to-end section: latency beside the physical limit, and where the tail comes from.</summary>
public sealed partial class BenchReport
{
    private void E2eTargets(List<(string Name, string Target, string Measured, bool Met)> t)
    {
        if (E2e is not { } e)
        {
            return;
        }
        t.Add(("end-to-end p50", "≤ 1.1 × physical limit p50", $"{F(e.EndToEnd.Percentile(50))} ms = {F(e.Ratio, 2)} × {F(e.Reference.Percentile(50))} ms{(e.LoadedLimit is null ? "" : " (limit under the same load)")}", e.Ratio <= 1.1));
        t.Add(("end-to-end p99", "≤ 2 × physical limit p99", $"{F(e.EndToEnd.Percentile(99))} ms = {F(e.TailRatio, 2)} × {F(e.Reference.Percentile(99))} ms{(e.LoadedLimit is null ? "" : " (limit under the same load)")}", e.TailRatio <= 2));
        t.Add(("mutating Kubernetes calls per remediation", "≤ 3", F(e.MutatingPerRemediation, 2), e.MutatingPerRemediation <= 3));
    }

    private void E2eSection(StringBuilder b)
    {
        if (E2e is not { } e)
        {
            return;
        }
        var inv = CultureInfo.InvariantCulture;
        b.AppendLine().AppendLine("## End to end, and the physical limit").AppendLine();
        b.AppendLine(inv, $"{e.Incidents} crash-loop alerts on distinct Deployments (after {e.Warmup} warm-up alerts that are not counted), open loop at {F(Settings.E2eRate, 0)}/s, into the in-process host with its queue worker (polling 50 ms, backing off to 1 s when idle, woken at once when the host itself queues work) and a policy that restarts crash loops with cooldown 0 s. Times come from the product's own spans: `remediation.ingest` start (alert parsed) → `remediation.act` stop (mutating call acknowledged) → `remediation.record` stop (outcome row and summary row written, one transaction).").AppendLine();
        b.AppendLine(inv, $"Physical limit: the unavoidable round trips of one remediation issued directly against the same Azurite and simulator, one after another, twice. **Under the same load**: during the run, paced at its rate, on the warm-up incidents' deployments (the simulator's controller loop, the verification checks and the process's GC hit them as they hit the product): {e.LoadedComposition ?? "not measured"}. **Quiet**: after the run, the host stopped: {e.LimitComposition}. The targets compare with the limit under the same load.").AppendLine();
        b.AppendLine("| | p50 ms | p99 ms |").AppendLine("|---|---|---|");
        b.AppendLine(inv, $"| received → mutating call acknowledged | {F(e.ToMutation.Percentile(50))} | {F(e.ToMutation.Percentile(99))} |");
        b.AppendLine(inv, $"| **received → outcome recorded (end to end)** | {F(e.EndToEnd.Percentile(50))} | {F(e.EndToEnd.Percentile(99))} |");
        b.AppendLine(inv, $"| of which: queue wait (ingest done → worker starts) | {F(e.QueueWait.Percentile(50))} | {F(e.QueueWait.Percentile(99))} |");
        b.AppendLine(inv, $"| of which: worker processing (dequeued → outcome recorded) | {F(e.Processing.Percentile(50))} | {F(e.Processing.Percentile(99))} |");
        if (e.LoadedLimit is { } loaded)
        {
            b.AppendLine(inv, $"| physical limit under the same load (sum of the unavoidable round trips) | {F(loaded.Percentile(50))} | {F(loaded.Percentile(99))} |");
        }
        b.AppendLine(inv, $"| physical limit, quiet (after the run) | {F(e.Limit.Percentile(50))} | {F(e.Limit.Percentile(99))} |");
        b.AppendLine();
        b.AppendLine(inv, $"Ratio end-to-end / limit: p50 **{F(e.Ratio, 2)}**, p99 **{F(e.TailRatio, 2)}**; worker processing alone / limit (p50): {F(e.ProcessingRatio, 2)}. Incidents that acted: {e.Acted}/{e.Incidents}; mutating Kubernetes calls per remediation: {F(e.MutatingPerRemediation, 2)}. Kubernetes reads seen: {string.Join(", ", e.ReadResources)}.");
        E2eTailSection(b, e);
    }

    private static void E2eTailSection(StringBuilder b, E2eFigures e)
    {
        var inv = CultureInfo.InvariantCulture;
        b.AppendLine().AppendLine("### Where the time goes").AppendLine();
        b.AppendLine("Each incident's end-to-end time cut into contiguous slices at its spans' boundaries (they add up to its end-to-end time). Percentiles are per slice, so they do not add up.").AppendLine();
        b.AppendLine("| slice | spans | p50 ms | p99 ms | max ms |").AppendLine("|---|---|---|---|---|");
        foreach (var s in e.Segments)
        {
            b.AppendLine(inv, $"| {s.Name} | {s.Spans} | {F(s.Ms.Percentile(50))} | {F(s.Ms.Percentile(99))} | {F(s.Ms.Percentile(100))} |");
        }
        if (e.Segments.Where(x => x.Ms.Count > 0).OrderByDescending(x => x.Ms.Percentile(99)).FirstOrDefault() is { } worst)
        {
            var rest = e.Segments.Where(x => x != worst && x.Ms.Count > 0).Sum(x => x.Ms.Percentile(50));
            b.AppendLine().AppendLine(inv, $"Largest slice at p99: {worst.Name}, {F(worst.Ms.Percentile(99))} ms (its p50 {F(worst.Ms.Percentile(50))} ms; the other slices' p50s add up to {F(rest)} ms).");
        }
        if (e.Runtime is { } r)
        {
            b.AppendLine().AppendLine(inv, $"Bench process during the phase (host, simulator and load generator share it): GC collections gen0/gen1/gen2 {r.Gen0}/{r.Gen1}/{r.Gen2}, total GC pause {F(r.GcPauseMs)} ms; thread-pool queue (sampled every 10 ms, {r.Samples} samples) p99 {r.PendingP99}, max {r.PendingMax}; at most {r.ThreadsMax} pool threads. Verification checks run meanwhile: {e.VerifyChecks}; sweeps: {e.Sweeps}.");
        }
        if (e.SimulatorWaits is { Count: > 0 } waits)
        {
            b.AppendLine().AppendLine(inv, $"The cluster simulator (a stand-in for the API server, not the product) answers each Kubernetes request under one lock, which its controller loop holds while it reconciles every workload, letting waiting requests in every {F(ClusterSimulator.SimulatedCluster.HoldAtMost.TotalMilliseconds, 0)} ms (a real API server answers reads from its cache meanwhile). During the run {waits.Count} API requests waited for that lock p50 {F(waits.Percentile(50), 1)} ms, p99 {F(waits.Percentile(99), 1)} ms, max {F(waits.Percentile(100), 1)} ms; the loop held it {F(e.SimulatorHeldShare * 100, 0)} % of the time (longest pass {F(e.SimulatorLongestPassMs)} ms). The product's incidents and the limit's round trips both pay this wait.");
        }
        if (e.Tail.Count == 0)
        {
            return;
        }
        b.AppendLine().AppendLine("The slowest incidents, slice by slice (ms), with what ran in the same process while they were open:").AppendLine();
        b.Append("| incident | end to end |");
        foreach (var s in e.Segments)
        {
            b.Append(' ').Append(s.Name).Append(" |");
        }
        b.AppendLine(" verification checks overlapping | sweeps overlapping | GC pause ms | max thread-pool queue |");
        b.Append("|---|---|").Append(string.Concat(Enumerable.Repeat("---|", e.Segments.Count))).AppendLine("---|---|---|---|");
        foreach (var t in e.Tail)
        {
            b.AppendLine(inv, $"| {t.Incident} | {F(t.EndToEndMs)} | {string.Join(" | ", t.SegmentMs.Select(x => F(x)))} | {t.VerifyChecksOverlapping} | {t.SweepsOverlapping} | {F(t.GcPauseMs)} | {t.MaxPendingWorkItems} |");
        }
    }
}
