namespace Remediation.ServiceGraph;

/// <summary>A node placed for drawing: column = call depth, row = position within the column.</summary>
public sealed record LayoutNode(WorkloadId Workload, int Column, int Row, Health Health, string? Mark);

/// <summary>An edge to draw between two placed nodes.</summary>
public sealed record LayoutEdge(WorkloadId From, WorkloadId To, Health Health, string Label);

/// <summary>
/// A small layout of the mesh graph that a page can draw (e.g. as SVG): nodes in columns by call depth (callers left of
/// their callees), rows ordered by name, each node with its inbound health and blame mark, each edge with its health.
/// </summary>
public sealed record GraphLayout(IReadOnlyList<LayoutNode> Nodes, IReadOnlyList<LayoutEdge> Edges, int Columns, int Rows)
{
    public static GraphLayout Of(MeshGraph graph, Blame? blame = null, HealthThresholds? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
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

        var edges = graph.Edges.Select(e => new LayoutEdge(e.Source, e.Destination, HealthRules.Of(e.Stats, thresholds),
            $"{Blame.Rate(e.Stats.RequestsPerSecond)}, errors {Blame.Percent(e.Stats.FailureRatio)}")).ToList();
        return new GraphLayout(nodes, edges, nodes.Count == 0 ? 0 : nodes.Max(n => n.Column) + 1, nodes.Count == 0 ? 0 : nodes.Max(n => n.Row) + 1);
    }
}
