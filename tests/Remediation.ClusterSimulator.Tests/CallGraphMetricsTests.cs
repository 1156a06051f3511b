using System.Globalization;
using System.Text.RegularExpressions;

namespace Remediation.ClusterSimulator.Tests;

/// <summary>Call-graph scenarios: edge series from both reporters, failures and latency propagating to callers.</summary>
public sealed partial class CallGraphMetricsTests
{
    private sealed record Line(Dictionary<string, string> Labels, double Value)
    {
        public string this[string label] => Labels.GetValueOrDefault(label, "");
    }

    private static List<Line> Parse(string metrics, string name) =>
        LineRegex().Matches(metrics).Where(m => m.Groups["n"].Value == name)
            .Select(m => new Line(LabelRegex().Matches(m.Groups["l"].Value).ToDictionary(l => l.Groups["k"].Value, l => l.Groups["v"].Value),
                double.Parse(m.Groups["v"].Value, CultureInfo.InvariantCulture)))
            .ToList();

    private static IEnumerable<Line> Edge(List<Line> lines, string source, string destination, string reporter) =>
        lines.Where(l => l["source_workload"] == source && l["destination_workload"] == destination && l["reporter"] == reporter);

    private static double Total(IEnumerable<Line> lines) => lines.Sum(l => l.Value);

    private static double Failed(IEnumerable<Line> lines) =>
        lines.Where(l => l["response_code"].StartsWith('5') || l["grpc_response_status"] is { Length: > 0 } g && g != "0").Sum(l => l.Value);

    /// <summary>The inbound error ratio of a workload over all its callers, as its own sidecar reports it.</summary>
    private static double InboundErrorRatio(List<Line> lines, string workload)
    {
        var inbound = lines.Where(l => l["destination_workload"] == workload && l["reporter"] == "destination").ToList();
        return Failed(inbound) / Total(inbound);
    }

    private static async Task<List<Line>> RequestsAfter(string scenario, TimeSpan elapsed)
    {
        await using var h = await Harness.StartAsync(scenario, fakeTime: true);
        h.Time!.Advance(elapsed);
        return Parse(h.Cluster.MetricsText(), "istio_requests_total");
    }

    [Fact]
    public async Task Cascade_exports_every_edge_from_both_reporters_and_failures_propagate_to_the_callers()
    {
        var lines = await RequestsAfter("cascade.yaml", TimeSpan.FromMinutes(10));

        // Rates along the graph: 40 req/s into frontend, half of them call checkout, each checkout request calls payments.
        Assert.InRange(Total(Edge(lines, "unknown", "frontend", "destination")), 40 * 600 * 0.99, 40 * 600 * 1.01);
        Assert.InRange(Total(Edge(lines, "frontend", "checkout", "destination")), 20 * 600 * 0.99, 20 * 600 * 1.01);
        Assert.InRange(Total(Edge(lines, "checkout", "payments", "destination")), 20 * 600 * 0.99, 20 * 600 * 1.01);
        Assert.InRange(Total(Edge(lines, "frontend", "catalog", "destination")), 40 * 600 * 0.99, 40 * 600 * 1.01);

        // Mesh callers are reported by both sidecars with the same figures; the client outside the mesh only by the destination.
        foreach (var (source, destination) in new[] { ("frontend", "checkout"), ("checkout", "payments"), ("frontend", "catalog") })
        {
            Assert.Equal(Total(Edge(lines, source, destination, "destination")), Total(Edge(lines, source, destination, "source")), 0);
            Assert.Equal(Failed(Edge(lines, source, destination, "destination")), Failed(Edge(lines, source, destination, "source")), 0);
            Assert.All(Edge(lines, source, destination, "source"), l => Assert.Equal("shop", l["source_workload_namespace"]));
        }

        Assert.Empty(Edge(lines, "unknown", "frontend", "source"));
        Assert.All(Edge(lines, "unknown", "frontend", "destination"), l => Assert.Equal("unknown", l["source_workload_namespace"]));

        // payments fails half; checkout = own 0.1 % + 1 x 50 %; frontend = own 0.1 % + 0.5 x checkout's + 1 x catalog's 0.1 %.
        Assert.InRange(InboundErrorRatio(lines, "payments"), 0.49, 0.51);
        Assert.InRange(InboundErrorRatio(lines, "checkout"), 0.49, 0.513);
        Assert.InRange(InboundErrorRatio(lines, "frontend"), 0.245, 0.26);
        Assert.InRange(InboundErrorRatio(lines, "catalog"), 0, 0.003);
        Assert.All(lines.Where(l => l["response_code"] == "503"), l => Assert.Equal("", l["grpc_response_status"]));
    }

    [Fact]
    public async Task Caller_regression_fails_on_its_own_while_its_callees_answer_it()
    {
        var lines = await RequestsAfter("caller-regression.yaml", TimeSpan.FromMinutes(5));

        Assert.InRange(InboundErrorRatio(lines, "checkout"), 0.39, 0.41);
        Assert.Equal(0, Failed(Edge(lines, "checkout", "payments", "source")));
        Assert.Equal(0, Failed(Edge(lines, "checkout", "inventory", "source")));
        Assert.InRange(Total(Edge(lines, "checkout", "payments", "source")), 30 * 300 * 0.99, 30 * 300 * 1.01);
        Assert.InRange(InboundErrorRatio(lines, "frontend"), 0.39, 0.412);
    }

    [Fact]
    public async Task A_grpc_edge_reports_failures_as_grpc_status_14_with_http_200()
    {
        var lines = await RequestsAfter("shared-dependency.yaml", TimeSpan.FromMinutes(5));

        var grpc = Edge(lines, "catalog", "inventory", "source").ToList();
        Assert.NotEmpty(grpc);
        Assert.All(grpc, l => Assert.Equal("200", l["response_code"]));
        Assert.All(grpc, l => Assert.Equal("grpc", l["request_protocol"]));
        Assert.Equal(["0", "14"], grpc.Select(l => l["grpc_response_status"]).Distinct().Order(StringComparer.Ordinal));
        Assert.InRange(Failed(grpc) / Total(grpc), 0.39, 0.41);

        var http = Edge(lines, "orders", "inventory", "source").ToList();
        Assert.All(http, l => Assert.Equal("", l["grpc_response_status"]));
        Assert.InRange(Failed(http) / Total(http), 0.39, 0.41);

        // Both independent callers fail as their shared dependency does (their own inbound traffic is HTTP: 503s).
        Assert.InRange(InboundErrorRatio(lines, "orders"), 0.39, 0.412);
        Assert.InRange(InboundErrorRatio(lines, "catalog"), 0.39, 0.412);
        Assert.All(Edge(lines, "unknown", "catalog", "destination"), l => Assert.Equal("", l["grpc_response_status"]));
    }

    [Fact]
    public async Task Latency_adds_up_along_the_call_chain()
    {
        await using var h = await Harness.StartAsync("latency-cascade.yaml", fakeTime: true);
        h.Time!.Advance(TimeSpan.FromMinutes(5));
        var buckets = Parse(h.Cluster.MetricsText(), "istio_request_duration_milliseconds_bucket");

        double ShareBelow(string source, string destination, string le)
        {
            var edge = buckets.Where(l => l["source_workload"] == source && l["destination_workload"] == destination && l["reporter"] == "destination").ToList();
            return Total(edge.Where(l => l["le"] == le)) / Total(edge.Where(l => l["le"] == "+Inf"));
        }

        // pricing alone: p99 2400 ms; catalog adds its 40 ms, frontend its 90 ms: all three are slow, none under 1 s at p99.
        Assert.True(ShareBelow("catalog", "pricing", "1000") < 0.99);
        Assert.True(ShareBelow("frontend", "catalog", "1000") < 0.99);
        Assert.True(ShareBelow("unknown", "frontend", "1000") < 0.99);
        Assert.True(ShareBelow("unknown", "frontend", "5000") >= 0.99);

        // The median adds up too: pricing 300 ms, catalog 310 ms, frontend 330 ms; catalog alone would be 10 ms.
        Assert.True(ShareBelow("frontend", "catalog", "250") < 0.5);
        Assert.True(ShareBelow("frontend", "catalog", "500") > 0.5);
    }

    [Fact]
    public async Task Scenarios_without_a_call_graph_have_no_source_reporter_or_grpc_series()
    {
        var lines = await RequestsAfter("bad-rollout.yaml", TimeSpan.FromMinutes(2));

        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Equal("destination", l["reporter"]));
        Assert.All(lines, l => Assert.False(l.Labels.ContainsKey("grpc_response_status")));
    }

    [GeneratedRegex(@"^(?<n>[a-z_]+)\{(?<l>[^}]*)\} (?<v>[0-9.e+]+)$", RegexOptions.Multiline)]
    private static partial Regex LineRegex();

    [GeneratedRegex(@"(?<k>[a-z_]+)=""(?<v>[^""]*)""")]
    private static partial Regex LabelRegex();
}
