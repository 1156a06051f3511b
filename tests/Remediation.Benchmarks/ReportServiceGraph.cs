using System.Globalization;
using System.Text;

namespace Remediation.Benchmarks;

/// <summary>The service-graph section of the report and its row of the Targets table.</summary>
public sealed partial class BenchReport
{
    public ServiceGraphFigures? ServiceGraph { get; set; }

    private void ServiceGraphTargets(List<(string Name, string Target, string Measured, bool Met)> t)
    {
        if (ServiceGraph is not { } g)
        {
            return;
        }
        t.Add(("service-graph reading p50", "≤ 1.5 × the same queries issued directly", $"{F(g.ReadMs.Percentile(50))} ms = {F(g.Ratio, 2)} × {F(g.DirectMs.Percentile(50))} ms; culprit {g.Culprit}",
            g.Ratio <= 1.5 && g.Culprit == "shop/payments"));
    }

    private void ServiceGraphSection(StringBuilder b)
    {
        if (ServiceGraph is not { } g)
        {
            return;
        }
        b.AppendLine().AppendLine("## Service graph: reading Prometheus").AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"A real Prometheus (its own process) scrapes the simulator's `cascade` scenario (frontend → checkout → payments, payments answering 5xx) every second. The product's graph reading for frontend (`PrometheusServiceGraphSource.ReadAsync`, window 30 s: two neighbour hops one after another, then the edge queries at once; {g.QueriesPerRead} PromQL queries) is timed against the same requests, captured from the product's own calls and issued directly with a plain HttpClient in the same shape, alternating, {g.Reads} times each. The reading found {g.Edges} edges and blamed {g.Culprit}.").AppendLine();
        b.AppendLine("| | p50 ms | p99 ms |").AppendLine("|---|---|---|");
        b.AppendLine(CultureInfo.InvariantCulture, $"| **graph reading (product)** | {F(g.ReadMs.Percentile(50))} | {F(g.ReadMs.Percentile(99))} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| the same queries, issued directly | {F(g.DirectMs.Percentile(50))} | {F(g.DirectMs.Percentile(99))} |");
        b.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Ratio reading / direct (p50): {F(g.Ratio, 2)}.");
    }
}
