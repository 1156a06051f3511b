using Remediation.ServiceGraph;
using static Remediation.Tests.ServiceGraph.GraphFigures;

namespace Remediation.Tests.ServiceGraph;

public sealed class GraphTextTests
{
    [Fact]
    public void One_line_per_edge_in_call_order_with_figures_health_and_marks()
    {
        var reading = Graph("frontend", Cascade());
        var blame = BlameAnalyzer.Analyze(reading, W("frontend"), Symptom.Errors);

        var lines = GraphText.Render(reading, blame).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("service graph around shop/frontend (5 min window, 4 edges)", lines[0]);
        Assert.StartsWith("  unknown -> shop/frontend ", lines[1], StringComparison.Ordinal);
        Assert.Matches(@"^  unknown -> shop/frontend +40 req/s  5xx +25\.\d %  4xx +0 %  p99 +500 ms  failure  \[victim\]$", lines[1]);
        Assert.Matches(@"^  shop/frontend -> shop/catalog +40 req/s  5xx +0\.1 %  4xx +0 %  p99 +40 ms  degraded$", lines[2]);
        Assert.Matches(@"^  shop/frontend -> shop/checkout +20 req/s  5xx +50\.1 %  4xx +0 %  p99 +430 ms  failure  \[victim\]$", lines[3]);
        Assert.Matches(@"^  shop/checkout -> shop/payments +20 req/s  5xx +50 %  4xx +0 %  p99 +250 ms  failure  \[culprit\]$", lines[4]);
        Assert.Equal("  blame: shop/frontend is a victim of shop/payments (shop/frontend -> shop/checkout -> shop/payments)", lines[5]);
    }

    [Fact]
    public void Unreadable_and_empty_graphs_say_so()
    {
        Assert.Equal("service graph: unreadable (connection refused)\n", GraphText.Render(GraphReading.Failed("connection refused")));
        Assert.EndsWith("  no mesh traffic recorded\n", GraphText.Render(Graph("frontend")), StringComparison.Ordinal);
    }

    [Fact]
    public void Gprc_errors_and_traffic_loss_are_shown_when_present()
    {
        var edge = new GraphEdge(W("catalog"), W("inventory"), new EdgeStats(5, 0, 0, 0.4, 30, 50), "source");
        var text = GraphText.Render(GraphReading.Of(new MeshGraph(W("catalog"), TimeSpan.FromMinutes(5), [edge])));

        Assert.Contains("grpc 40 %", text, StringComparison.Ordinal);
        Assert.Contains("traffic loss 90 % (baseline 50 req/s)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Layout_puts_callers_left_of_their_callees_with_health_and_marks()
    {
        var reading = Graph("frontend", Cascade());
        var layout = GraphLayout.Of(reading.Graph!, BlameAnalyzer.Analyze(reading, W("frontend"), Symptom.Errors));

        Assert.Equal(4, layout.Columns);
        Assert.Equal(2, layout.Rows);
        Assert.Equal(
            ["0:0 unknown", "1:0 shop/frontend victim Failure", "2:0 shop/catalog  Degraded", "2:1 shop/checkout victim Failure", "3:0 shop/payments culprit Failure"],
            layout.Nodes.Select(n => n.Workload.IsUnknown ? "0:0 unknown" : $"{n.Column}:{n.Row} {n.Workload} {n.Mark} {n.Health}"));
        Assert.Equal(4, layout.Edges.Count);
        Assert.Contains(layout.Edges, e => e.From == W("checkout") && e.To == W("payments") && e.Health == Health.Failure && e.Label == "20 req/s, errors 50 %");
    }
}
