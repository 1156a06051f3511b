using System.Text.Json.Serialization;

namespace Remediation.ServiceGraph;

/// <summary>
/// One edge of a recorded service graph: its figures over the window (ratios 0..1; gRPC, p99 and the baseline rate null
/// when the telemetry had none) and its health as judged when it was recorded.
/// </summary>
public sealed record ServiceGraphEdge(
    WorkloadId Source,
    WorkloadId Destination,
    double RequestsPerSecond,
    double ErrorRatio5xx,
    double ErrorRatio4xx,
    double? GrpcErrorRatio,
    double? P99Ms,
    double? BaselineRequestsPerSecond,
    Health Health)
{
    [JsonIgnore]
    public EdgeStats Stats => new(RequestsPerSecond, ErrorRatio5xx, ErrorRatio4xx, GrpcErrorRatio ?? 0, P99Ms, BaselineRequestsPerSecond);
}

/// <summary>
/// What the service-graph diagnosis found, as recorded with the incident (in its diagnosis): the blame verdict with its
/// evidence and the subgraph it was decided on, so the history page can draw it without reading the telemetry again.
/// </summary>
public sealed record ServiceGraphFinding(
    BlameVerdict Verdict,
    Symptom Symptom,
    WorkloadId Alerted,
    WorkloadId? Culprit,
    WorkloadId? Suspected,
    IReadOnlyList<WorkloadId> Chain,
    IReadOnlyList<WorkloadId> Victims,
    IReadOnlyList<string> Evidence,
    IReadOnlyList<ServiceGraphEdge> Edges,
    TimeSpan Window)
{
    /// <summary>The finding for <paramref name="blame"/> decided on <paramref name="graph"/>, each edge's health under <paramref name="thresholds"/>.</summary>
    public static ServiceGraphFinding From(MeshGraph graph, Blame blame, HealthThresholds? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(blame);
        var edges = graph.Edges.Select(e => new ServiceGraphEdge(e.Source, e.Destination, e.Stats.RequestsPerSecond, e.Stats.ServerErrorRatio,
            e.Stats.ClientErrorRatio, e.Stats.GrpcErrorRatio > 0 ? e.Stats.GrpcErrorRatio : null, e.Stats.P99Ms, e.Stats.BaselineRequestsPerSecond,
            HealthRules.Of(e.Stats, thresholds))).ToList();
        return new ServiceGraphFinding(blame.Verdict, blame.Symptom, blame.Alerted, blame.Culprit, blame.Suspected, blame.Chain, blame.Victims,
            blame.Evidence, edges, graph.Window);
    }

    /// <summary>The recorded subgraph, centred on the alerted workload (each edge as its caller reported it).</summary>
    public MeshGraph ToGraph() => new(Alerted, Window, Edges.Select(e => new GraphEdge(e.Source, e.Destination, e.Stats, "recorded")).ToList());

    /// <summary>The recorded verdict.</summary>
    public Blame ToBlame() => new(Verdict, Symptom, Alerted, Culprit, Suspected, Chain, Victims, Evidence);

    /// <summary>The incident's alerted workload is a victim of another workload's failure.</summary>
    [JsonIgnore]
    public bool AlertedIsVictim => Culprit is { } culprit && culprit != Alerted;
}
