using static Remediation.ServiceGraph.Blame;

namespace Remediation.ServiceGraph;

/// <summary>A node placed for drawing: column = call depth, row = position within the column.</summary>
public sealed record LayoutNode(WorkloadId Workload, int Column, int Row, Health Health, string? Mark);

/// <summary>An edge to draw between two placed nodes: a short label and the full figures (<see cref="Detail"/>).</summary>
public sealed record LayoutEdge(WorkloadId From, WorkloadId To, Health Health, string Label, string Detail = "");

/// <summary>
/// A small layout of the mesh graph that a page can draw (e.g. as SVG): nodes in columns by call depth (callers left of
/// their callees), rows ordered by name, each node with its inbound health and blame mark, each edge with its health.
/// </summary>
public sealed record GraphLayout(IReadOnlyList<LayoutNode> Nodes, IReadOnlyList<LayoutEdge> Edges, int Columns, int Rows)
{
    public static GraphLayout Of(MeshGraph graph, Blame? blame = null, HealthThresholds? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return Build(graph, blame, thresholds, e => HealthRules.Of(e.Stats, thresholds));
    }

    /// <summary>The layout of a recorded finding: edges keep the health recorded with them; nodes are judged on their inbound traffic.</summary>
    public static GraphLayout Of(ServiceGraphFinding finding, HealthThresholds? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(finding);
        var recorded = finding.Edges.GroupBy(e => (e.Source, e.Destination)).ToDictionary(g => g.Key, g => g.First().Health);
        return Build(finding.ToGraph(), finding.ToBlame(), thresholds,
            e => recorded.TryGetValue((e.Source, e.Destination), out var health) ? health : HealthRules.Of(e.Stats, thresholds));
    }

    private static GraphLayout Build(MeshGraph graph, Blame? blame, HealthThresholds? thresholds, Func<GraphEdge, Health> edgeHealth)
    {
        var depths = GraphText.Depths(graph);
        var nodes = new List<LayoutNode>();
        foreach (var column in depths.GroupBy(d => d.Value, d => d.Key).OrderBy(g => g.Key))
        {
            var row = 0;
            foreach (var workload in column.OrderBy(w => w.ToString(), StringComparer.Ordinal))
            {
                var health = workload.IsUnknown ? Health.NotEnoughTraffic : HealthRules.OfNode(graph, workload, thresholds);
                nodes.Add(new LayoutNode(workload, column.Key, row++, health, GraphText.Mark(blame, workload)));
            }
        }

        var edges = graph.Edges.Select(e =>
        {
            var health = edgeHealth(e);
            return new LayoutEdge(e.Source, e.Destination, health, $"{Rate(e.Stats.RequestsPerSecond)}, errors {Percent(e.Stats.FailureRatio)}", Detail(e, health));
        }).ToList();
        return new GraphLayout(nodes, edges, nodes.Count == 0 ? 0 : nodes.Max(n => n.Column) + 1, nodes.Count == 0 ? 0 : nodes.Max(n => n.Row) + 1);
    }

    private static string Detail(GraphEdge e, Health health)
    {
        var s = e.Stats;
        var grpc = s.GrpcErrorRatio > 0 ? $", gRPC errors {Percent(s.GrpcErrorRatio)}" : "";
        var loss = s.TrafficLoss >= 0.5 ? $", traffic loss {Percent(s.TrafficLoss)} (baseline {Rate(s.BaselineRequestsPerSecond ?? 0)})" : "";
        return $"{e.Source} -> {e.Destination}: {Rate(s.RequestsPerSecond)}, 5xx {Percent(s.ServerErrorRatio)}, 4xx {Percent(s.ClientErrorRatio)}{grpc}, "
            + $"p99 {Millis(s.P99Ms)}{loss}; {HealthRules.Describe(health)}";
    }
}
