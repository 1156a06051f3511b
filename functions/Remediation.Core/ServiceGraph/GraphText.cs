using System.Globalization;
using System.Text;
using static Remediation.ServiceGraph.Blame;

namespace Remediation.ServiceGraph;

/// <summary>The mesh graph as text (for <c>remediation plan</c>): one line per edge with its figures, health and blame marks.</summary>
public static class GraphText
{
    public static string Render(GraphReading reading, Blame? blame = null, HealthThresholds? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(reading);
        if (reading.Graph is not { } graph)
        {
            return $"service graph: unreadable ({reading.Unreadable})\n";
        }

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"service graph around {graph.Center} ({Window(graph.Window)} window, {graph.Edges.Count} edges)\n");
        if (graph.Edges.Count == 0)
        {
            return sb.Append("  no mesh traffic recorded\n").ToString();
        }

        var depths = Depths(graph);
        var rows = graph.Edges
            .OrderBy(e => depths.GetValueOrDefault(e.Source)).ThenBy(e => e.Source.ToString(), StringComparer.Ordinal).ThenBy(e => e.Destination.ToString(), StringComparer.Ordinal)
            .Select(e => (Name: $"{e.Source} -> {e.Destination}", Edge: e)).ToList();
        var width = rows.Max(r => r.Name.Length);
        foreach (var (name, edge) in rows)
        {
            var s = edge.Stats;
            sb.Append("  ").Append(name.PadRight(width))
                .Append("  ").Append(Rate(s.RequestsPerSecond).PadLeft(12))
                .Append("  5xx ").Append(Percent(s.ServerErrorRatio).PadLeft(7))
                .Append("  4xx ").Append(Percent(s.ClientErrorRatio).PadLeft(7));
            if (s.GrpcErrorRatio > 0)
            {
                sb.Append("  grpc ").Append(Percent(s.GrpcErrorRatio));
            }

            sb.Append("  p99 ").Append(Millis(s.P99Ms).PadLeft(8))
                .Append("  ").Append(HealthRules.Describe(HealthRules.Of(s, thresholds)));
            if (s.TrafficLoss >= 0.5)
            {
                sb.Append(CultureInfo.InvariantCulture, $"  traffic loss {Percent(s.TrafficLoss)} (baseline {Rate(s.BaselineRequestsPerSecond ?? 0)})");
            }

            if (Mark(blame, edge.Destination) is { } mark)
            {
                sb.Append("  [").Append(mark).Append(']');
            }

            sb.Append('\n');
        }

        if (blame is not null)
        {
            sb.Append("  blame: ").Append(blame.Summary).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>"culprit", "victim" or "suspected" for a workload under a blame verdict; null otherwise.</summary>
    public static string? Mark(Blame? blame, WorkloadId workload) =>
        blame is null ? null
        : blame.Culprit == workload ? "culprit"
        : blame.Victims.Contains(workload) ? "victim"
        : blame.Suspected == workload ? "suspected"
        : null;

    /// <summary>Call depth: 0 for workloads nobody in the graph calls (and clients outside the mesh), else one more than the nearest such caller.</summary>
    public static int Depth(MeshGraph graph, WorkloadId workload) => Depths(graph).GetValueOrDefault(workload);

    internal static Dictionary<WorkloadId, int> Depths(MeshGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var depths = new Dictionary<WorkloadId, int>();
        var queue = new Queue<WorkloadId>();
        foreach (var root in graph.Nodes.Where(n => n.IsUnknown || !graph.InEdges(n).Any()))
        {
            depths[root] = 0;
            queue.Enqueue(root);
        }

        while (queue.TryDequeue(out var node))
        {
            foreach (var edge in graph.OutEdges(node).Where(e => !depths.ContainsKey(e.Destination)))
            {
                depths[edge.Destination] = depths[node] + 1;
                queue.Enqueue(edge.Destination);
            }
        }

        foreach (var rest in graph.Nodes.Where(n => !depths.ContainsKey(n)))
        {
            depths[rest] = 0;
        }

        return depths;
    }

    private static string Window(TimeSpan window) =>
        window.TotalMinutes >= 1 ? window.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture) + " min" : window.TotalSeconds.ToString("0", CultureInfo.InvariantCulture) + " s";
}
