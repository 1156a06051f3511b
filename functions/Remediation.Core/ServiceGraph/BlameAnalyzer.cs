using static Remediation.ServiceGraph.Blame;

namespace Remediation.ServiceGraph;

/// <summary>
/// Decides whether an alerted workload's errors or latency are its own or a callee's: a callee Y explains a caller X when
/// X's calls to Y account for X's failures (or p99, within the histograms' resolution too) within the tolerance and Y fails
/// (or is slow) for all of its callers.
/// The chain is followed to the deepest such workload, the culprit; the callers its failures explain are its victims.
/// </summary>
public static class BlameAnalyzer
{
    private enum StepKind
    {
        None,
        Explained,
        Partial,
    }

    private readonly record struct Step(StepKind Kind, WorkloadId Callee);

    /// <summary>
    /// How far apart two p99 figures read from Istio's duration histograms can be and still be the same latency: its
    /// default buckets (…, 1000, 2500, 5000, 10000 ms) are up to 2.5 times apart and a quantile is interpolated inside one,
    /// so over a short window a caller whose latency is its callee's often reads one bucket higher (2.6 s as 5.1 s).
    /// </summary>
    public const double HistogramResolution = 2.5;

    public static Blame Analyze(GraphReading reading, WorkloadId alerted, Symptom symptom, BlameOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reading);
        var o = options ?? BlameOptions.Default;
        if (reading.Graph is not { } graph)
        {
            return Unknown(symptom, alerted, alerted, [$"mesh telemetry unreadable: {reading.Unreadable}"]);
        }

        var evidence = new List<string>();
        var inbound = graph.Inbound(alerted);
        if (HealthRules.Of(inbound, o.Health) == Health.NotEnoughTraffic)
        {
            evidence.Add($"{alerted} received {Rate(inbound?.RequestsPerSecond ?? 0)} over {graph.Window.TotalMinutes:0.#} min "
                + $"(minimum {Rate(o.Health.MinRequestsPerSecond)}): not enough traffic to judge");
            return Unknown(symptom, alerted, alerted, evidence);
        }

        if (Noise(alerted, inbound!, symptom, o, evidence) is { } verdict)
        {
            return new Blame(verdict, symptom, alerted, null, verdict == BlameVerdict.Unknown ? alerted : null, [alerted], [], evidence);
        }

        var chain = new List<WorkloadId> { alerted };
        var current = alerted;
        while (true)
        {
            var step = symptom == Symptom.Errors ? ErrorStep(graph, current, o, evidence) : LatencyStep(graph, current, o, evidence);
            if (step.Kind == StepKind.Partial)
            {
                return Unknown(symptom, alerted, current, evidence, chain);
            }

            if (step.Kind == StepKind.None || chain.Contains(step.Callee))
            {
                break;
            }

            chain.Add(step.Callee);
            current = step.Callee;
        }

        var victims = Victims(graph, current, symptom, o).Union(chain.Where(w => w != current)).Distinct().OrderBy(w => w.ToString(), StringComparer.Ordinal).ToList();
        evidence.Add(current == alerted ? $"culprit: {current} (own fault)" : $"culprit: {current}; victims: {string.Join(", ", victims)}");
        return new Blame(current == alerted ? BlameVerdict.OwnFault : BlameVerdict.Callee, symptom, alerted, current, null, chain, victims, evidence);
    }

    private static Blame Unknown(Symptom symptom, WorkloadId alerted, WorkloadId suspected, List<string> evidence, List<WorkloadId>? chain = null) =>
        new(BlameVerdict.Unknown, symptom, alerted, null, suspected, chain ?? [alerted], [], evidence);

    /// <summary>Client errors only, or no symptom at all: nothing for a callee to explain.</summary>
    private static BlameVerdict? Noise(WorkloadId alerted, EdgeStats inbound, Symptom symptom, BlameOptions o, List<string> evidence)
    {
        if (symptom == Symptom.Latency)
        {
            if (inbound.P99Ms is null)
            {
                evidence.Add($"{alerted}: no latency figures in the mesh telemetry");
                return BlameVerdict.Unknown;
            }

            return null;
        }

        if (inbound.FailureRatio > 0)
        {
            return null;
        }

        if (inbound.ClientErrorRatio >= o.Health.ClientErrorDegraded && inbound.ClientErrorRatio > 0)
        {
            evidence.Add($"{alerted} answers only client errors (4xx {Percent(inbound.ClientErrorRatio)} of {Rate(inbound.RequestsPerSecond)}, 5xx 0 %): "
                + "no callee is to blame for requests its callers got wrong");
            return BlameVerdict.Unknown;
        }

        evidence.Add($"{alerted} answers {Rate(inbound.RequestsPerSecond)} without server errors");
        return BlameVerdict.NoProblem;
    }

    private static Step ErrorStep(MeshGraph graph, WorkloadId x, BlameOptions o, List<string> evidence)
    {
        var inbound = graph.Inbound(x)!;
        var best = graph.OutEdges(x).Where(e => !e.Destination.IsUnknown).OrderByDescending(e => e.Stats.FailuresPerSecond).FirstOrDefault();
        if (best is null)
        {
            evidence.Add($"{x} fails {Percent(inbound.FailureRatio)} of {Rate(inbound.RequestsPerSecond)} and calls no workload in the mesh");
            return default;
        }

        var callees = string.Join(", ", graph.OutEdges(x).Select(e => $"{e.Destination} {Percent(e.Stats.FailureRatio)} of {Rate(e.Stats.RequestsPerSecond)}"));
        if (HealthRules.ServerSide(best.Stats, o.Health) is Health.Healthy or Health.NotEnoughTraffic)
        {
            evidence.Add($"{x} fails {Percent(inbound.FailureRatio)} of {Rate(inbound.RequestsPerSecond)}; its callees answer it (failed calls: {callees})");
            return default;
        }

        var share = inbound.FailuresPerSecond > 0 ? best.Stats.FailuresPerSecond / inbound.FailuresPerSecond : 0;
        if (share < 1 - o.Tolerance)
        {
            evidence.Add($"{x} fails {Rate(inbound.FailuresPerSecond)} of its requests; its failed calls to {best.Destination} "
                + $"({Rate(best.Stats.FailuresPerSecond)}) account for only {Percent(share)} of them: not explained by a callee");
            return default;
        }

        var ratio = best.Stats.FailureRatio;
        var callers = graph.InEdges(best.Destination).Where(e => e.Stats.RequestsPerSecond >= o.Health.MinRequestsPerSecond).ToList();
        var spared = callers.Where(e => e.Stats.FailureRatio < o.PartialFactor * ratio).ToList();
        evidence.Add($"{x} fails {Rate(inbound.FailuresPerSecond)} ({Percent(inbound.FailureRatio)} of {Rate(inbound.RequestsPerSecond)}); "
            + $"its calls to {best.Destination} fail {Rate(best.Stats.FailuresPerSecond)} ({Percent(ratio)}): {Percent(Math.Min(share, 9.99))} of its failures");
        return CallerVerdict(best.Destination, x, callers, spared, e => Percent(e.Stats.FailureRatio), "fails", evidence);
    }

    private static Step LatencyStep(MeshGraph graph, WorkloadId x, BlameOptions o, List<string> evidence)
    {
        var px = graph.Inbound(x)?.P99Ms ?? 0;
        var best = graph.OutEdges(x).Where(e => !e.Destination.IsUnknown && e.Stats.RequestsPerSecond >= o.Health.MinRequestsPerSecond && e.Stats.P99Ms is not null)
            .OrderByDescending(e => e.Stats.P99Ms).FirstOrDefault();
        if (best is null || !ExplainsLatency(best.Stats.P99Ms, px, o))
        {
            evidence.Add(best is null
                ? $"{x} has p99 {Millis(px)} and calls no workload in the mesh with enough traffic"
                : $"{x} has p99 {Millis(px)}; its slowest callee {best.Destination} answers it in {Millis(best.Stats.P99Ms)} (p99): own latency");
            return default;
        }

        var p99 = best.Stats.P99Ms!.Value;
        var callers = graph.InEdges(best.Destination).Where(e => e.Stats.RequestsPerSecond >= o.Health.MinRequestsPerSecond).ToList();
        var spared = callers.Where(e => (e.Stats.P99Ms ?? 0) < o.PartialFactor * p99).ToList();
        evidence.Add($"{x} has p99 {Millis(px)}; its calls to {best.Destination} take {Millis(p99)} (p99): the callee explains it");
        return CallerVerdict(best.Destination, x, callers, spared, e => Millis(e.Stats.P99Ms), "is slow", evidence);
    }

    private static Step CallerVerdict(WorkloadId y, WorkloadId x, List<GraphEdge> callers, List<GraphEdge> spared, Func<GraphEdge, string> figure, string verb,
        List<string> evidence)
    {
        var all = string.Join(", ", callers.Select(e => $"{e.Source} {figure(e)}"));
        if (spared.Count > 0)
        {
            evidence.Add($"{y} {verb} for {x} but not for {string.Join(", ", spared.Select(e => $"{e.Source} ({figure(e)})"))}: "
                + $"a partial failure, {y} is not blamed");
            return new Step(StepKind.Partial, y);
        }

        evidence.Add($"{y} {verb} for all of its {callers.Count} caller(s): {all}");
        return new Step(StepKind.Explained, y);
    }

    /// <summary>Callers whose symptom the culprit explains, transitively up the graph.</summary>
    private static HashSet<WorkloadId> Victims(MeshGraph graph, WorkloadId culprit, Symptom symptom, BlameOptions o)
    {
        var victims = new HashSet<WorkloadId>();
        var queue = new Queue<WorkloadId>([culprit]);
        while (queue.TryDequeue(out var node))
        {
            foreach (var edge in graph.InEdges(node))
            {
                var caller = edge.Source;
                if (caller.IsUnknown || caller == culprit || victims.Contains(caller) || graph.Inbound(caller) is not { } inbound)
                {
                    continue;
                }

                var explained = symptom == Symptom.Errors
                    ? inbound.FailuresPerSecond > 0 && edge.Stats.FailuresPerSecond >= (1 - o.Tolerance) * inbound.FailuresPerSecond
                        && HealthRules.ServerSide(inbound, o.Health) is Health.Degraded or Health.Failure
                    : inbound.P99Ms is > 0 && ExplainsLatency(edge.Stats.P99Ms, inbound.P99Ms.Value, o);
                if (explained)
                {
                    victims.Add(caller);
                    queue.Enqueue(caller);
                }
            }
        }

        return victims;
    }

    /// <summary>A callee's p99 accounts for its caller's, within the tolerance and the histograms' resolution.</summary>
    private static bool ExplainsLatency(double? calleeP99, double callerP99, BlameOptions o) =>
        calleeP99 is { } p99 && p99 * HistogramResolution >= (1 - o.Tolerance) * callerP99;
}
