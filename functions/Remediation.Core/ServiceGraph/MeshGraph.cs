namespace Remediation.ServiceGraph;

/// <summary>A workload of the mesh graph; <c>unknown/unknown</c> stands for clients outside the mesh (as Istio labels them).</summary>
public readonly record struct WorkloadId(string Namespace, string Name)
{
    public static WorkloadId Unknown { get; } = new("unknown", "unknown");

    public bool IsUnknown => Name == "unknown";

    public override string ToString() => IsUnknown ? "unknown" : $"{Namespace}/{Name}";
}

/// <summary>
/// Traffic on one edge (or into one node) over the window: request rate, the shares answered 5xx, 4xx and with a gRPC
/// error status (1–16), p99 latency, and the request rate over the baseline window (traffic loss).
/// </summary>
public sealed record EdgeStats(
    double RequestsPerSecond,
    double ServerErrorRatio,
    double ClientErrorRatio,
    double GrpcErrorRatio,
    double? P99Ms,
    double? BaselineRequestsPerSecond)
{
    /// <summary>Server-side failures: 5xx and gRPC errors (gRPC errors are answered with HTTP 200, so they do not overlap).</summary>
    public double FailureRatio => Math.Min(1, ServerErrorRatio + GrpcErrorRatio);

    /// <summary>Failed requests per second.</summary>
    public double FailuresPerSecond => RequestsPerSecond * FailureRatio;

    /// <summary>The share of the baseline's traffic that is gone (0 without a baseline or when traffic grew).</summary>
    public double TrafficLoss => BaselineRequestsPerSecond is > 0 and var b ? Math.Max(0, 1 - (RequestsPerSecond / b)) : 0;

    /// <summary>Sums traffic (ratios weighted by rate; p99 the highest of the parts, an upper bound).</summary>
    public static EdgeStats Combine(IReadOnlyCollection<EdgeStats> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var rps = parts.Sum(p => p.RequestsPerSecond);
        double Weighted(Func<EdgeStats, double> ratio) => rps > 0 ? parts.Sum(p => p.RequestsPerSecond * ratio(p)) / rps : 0;
        var p99 = parts.Where(p => p.RequestsPerSecond > 0 && p.P99Ms is not null).Select(p => p.P99Ms!.Value).DefaultIfEmpty().Max();
        var baselines = parts.Where(p => p.BaselineRequestsPerSecond is not null).ToList();
        return new EdgeStats(rps, Weighted(p => p.ServerErrorRatio), Weighted(p => p.ClientErrorRatio), Weighted(p => p.GrpcErrorRatio),
            p99 > 0 ? p99 : null, baselines.Count > 0 ? baselines.Sum(p => p.BaselineRequestsPerSecond!.Value) : null);
    }
}

/// <summary>One directed edge: <see cref="Source"/> calls <see cref="Destination"/>; <see cref="Reporter"/> says whose sidecar measured it.</summary>
public sealed record GraphEdge(WorkloadId Source, WorkloadId Destination, EdgeStats Stats, string Reporter);

/// <summary>The subgraph of the mesh around <see cref="Center"/> over one window.</summary>
public sealed record MeshGraph(WorkloadId Center, TimeSpan Window, IReadOnlyList<GraphEdge> Edges)
{
    public IEnumerable<WorkloadId> Nodes =>
        Edges.SelectMany(e => new[] { e.Source, e.Destination }).Append(Center).Distinct().OrderBy(n => n.ToString(), StringComparer.Ordinal);

    public IEnumerable<GraphEdge> InEdges(WorkloadId workload) => Edges.Where(e => e.Destination == workload && e.Source != workload);

    public IEnumerable<GraphEdge> OutEdges(WorkloadId workload) => Edges.Where(e => e.Source == workload && e.Destination != workload);

    /// <summary>Everything the workload received over the window, from all its callers; null when no caller is known.</summary>
    public EdgeStats? Inbound(WorkloadId workload)
    {
        var parts = InEdges(workload).Select(e => e.Stats).ToList();
        return parts.Count == 0 ? null : EdgeStats.Combine(parts);
    }
}

/// <summary>What reading the graph gave: the graph, or why it could not be read (never an empty graph in its place).</summary>
public sealed record GraphReading(MeshGraph? Graph, string? Unreadable)
{
    public static GraphReading Of(MeshGraph graph) => new(graph, null);

    public static GraphReading Failed(string reason) => new(null, reason);
}

/// <summary>The mesh telemetry port: the call graph within two hops of a workload over a window.</summary>
public interface IServiceGraphSource
{
    /// <summary>
    /// The edges into and out of <paramref name="center"/> and its neighbours (every edge into a node of the subgraph, so a
    /// callee's health is judged over all of its callers) over <paramref name="window"/>.
    /// </summary>
    Task<GraphReading> ReadAsync(WorkloadId center, TimeSpan window, CancellationToken cancellationToken = default);
}
