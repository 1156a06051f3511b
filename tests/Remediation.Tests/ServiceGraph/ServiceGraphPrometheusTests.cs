using Remediation.ClusterSimulator;
using Remediation.Metrics;
using Remediation.ServiceGraph;
using Remediation.Tests.Diagnosis;
using Remediation.Tests.Fixtures;
using Xunit.Abstractions;

namespace Remediation.Tests.ServiceGraph;

/// <summary>The real Prometheus scraping the simulator's call-graph scenarios; the graph read back and blamed.</summary>
public sealed class ServiceGraphPrometheusTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(30);

    private async Task<(GraphReading Reading, Blame Blame)> ReadAndBlameAsync(string scenario, string alerted, params string[] failingEdges)
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync(scenario);
        await using var prometheus = await PrometheusProcess.StartAsync([cluster.BaseAddress.Authority], TimeSpan.FromSeconds(1));
        // rate() over the window reads steady rates once every failing edge's 5xx series (from the reporter the reader
        // prefers) has ten scrapes in it.
        foreach (var edge in failingEdges)
        {
            var (source, destination) = (edge.Split("->")[0], edge.Split("->")[1]);
            var reporter = source == "unknown" ? "destination" : "source";
            await prometheus.WaitForScrapesAsync(
                $"istio_requests_total{{reporter=\"{reporter}\",source_workload=\"{source}\",destination_workload=\"{destination}\",response_code=~\"5..\"}}", Window, 10);
        }

        using var http = new HttpClient();
        var graphSource = new PrometheusServiceGraphSource(new PrometheusClient(http, prometheus.BaseAddress, PrometheusAuthenticator.None, TimeSpan.FromSeconds(5), TimeProvider.System));
        var reading = await graphSource.ReadAsync(new WorkloadId("shop", alerted), Window);
        var blame = BlameAnalyzer.Analyze(reading, new WorkloadId("shop", alerted), Symptom.Errors);
        output.WriteLine(GraphText.Render(reading, blame));
        output.WriteLine(string.Join('\n', blame.Evidence));
        return (reading, blame);
    }

    [Fact]
    public async Task Cascade_names_payments_the_culprit_and_checkout_and_frontend_its_victims()
    {
        var (reading, blame) = await ReadAndBlameAsync("cascade.yaml", "frontend", "unknown->frontend", "frontend->checkout", "checkout->payments");

        var graph = reading.Graph!;
        Assert.Equal(
            ["shop/checkout -> shop/payments (source)", "shop/frontend -> shop/catalog (source)", "shop/frontend -> shop/checkout (source)", "unknown -> shop/frontend (destination)"],
            graph.Edges.Select(e => $"{e.Source} -> {e.Destination} ({e.Reporter})").Order(StringComparer.Ordinal));
        var payments = graph.Edges.Single(e => e.Destination.Name == "payments").Stats;
        Assert.InRange(payments.ServerErrorRatio, 0.4, 0.6);
        // The scenario's p99 (250 ms) is a bucket bound of the histogram: Prometheus' estimate lands in the bucket below or
        // above it as the rates' scrape edges fall (550 ms was read once), so the check is the bucket range around it.
        Assert.InRange(payments.P99Ms ?? 0, 100, 1000);
        Assert.Equal(BlameVerdict.Callee, blame.Verdict);
        Assert.Equal(new WorkloadId("shop", "payments"), blame.Culprit);
        Assert.Equal([new WorkloadId("shop", "checkout"), new WorkloadId("shop", "frontend")], blame.Victims);
        Assert.Equal(["shop/frontend", "shop/checkout", "shop/payments"], blame.Chain.Select(w => w.ToString()));
    }

    [Fact]
    public async Task Caller_regression_names_checkout_its_own_culprit()
    {
        var (_, blame) = await ReadAndBlameAsync("caller-regression.yaml", "checkout", "unknown->frontend", "frontend->checkout");

        Assert.Equal(BlameVerdict.OwnFault, blame.Verdict);
        Assert.Equal(new WorkloadId("shop", "checkout"), blame.Culprit);
        Assert.Equal([new WorkloadId("shop", "frontend")], blame.Victims);
        Assert.Contains(blame.Evidence, e => e.Contains("its callees answer it", StringComparison.Ordinal));
    }
}
