using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Remediation.Tests.Diagnosis;
using Remediation.Tests.Fixtures;
using Xunit.Abstractions;

namespace Remediation.Tests.Cli;

/// <summary>`remediation plan` prints the service graph around the target, read from a real Prometheus scraping the simulator.</summary>
public sealed partial class PlanGraphTests(ITestOutputHelper log) : IDisposable
{
    private static readonly string ExamplePolicy = Path.Combine(RepoPaths.Root, "examples", "policy.yaml");
    private readonly string _work = Directory.CreateTempSubdirectory("plan-graph-").FullName;

    private sealed record EdgeLine(string Edge, double Rate, double ServerErrors, double ClientErrors, string Health, string? Mark);

    [GeneratedRegex(@"^  (?<edge>\S+ -> \S+) +(?<rate>[0-9.]+) req/s  5xx +(?<e5>[0-9.]+) %  4xx +(?<e4>[0-9.]+) %  p99 +(?:[0-9]+ ms|n/a)  (?<health>not enough traffic|healthy|degraded|failure)(?:  \[(?<mark>[a-z]+)\])?$")]
    private static partial Regex EdgeRow();

    private string AlertFor(string workload)
    {
        var alert = new JsonObject
        {
            ["status"] = "firing",
            ["labels"] = new JsonObject
            {
                ["alertname"] = "IstioHigh5xxErrorRate", ["destination_workload"] = workload, ["destination_workload_namespace"] = "shop", ["severity"] = "critical",
            },
            ["annotations"] = new JsonObject { ["summary"] = $"High 5xx error rate for {workload}" },
            ["startsAt"] = "2026-11-26T03:12:00Z",
            ["fingerprint"] = "c0ffee" + workload,
        };
        var payload = new JsonObject { ["receiver"] = "remediation", ["status"] = "firing", ["alerts"] = new JsonArray(alert), ["version"] = "4" };
        var path = Path.Combine(_work, workload + ".json");
        File.WriteAllText(path, payload.ToJsonString());
        return path;
    }

    private static async Task<(int Code, string Out, string Err)> PlanAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await Remediation.Host.Cli.RunAsync(["plan", .. args], stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Plan_prints_the_cascade_graph_with_rates_errors_health_and_the_blame_verdict()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("cascade.yaml");
        await using var prometheus = await PrometheusProcess.StartAsync([cluster.BaseAddress.Authority], TimeSpan.FromSeconds(1));
        foreach (var (reporter, source, destination) in new[] { ("destination", "unknown", "frontend"), ("source", "frontend", "checkout"), ("source", "checkout", "payments") })
        {
            // Ten scrapes: over the 5 min window every edge's rate() is then well above the 0.1 req/s health needs to judge.
            await prometheus.WaitForScrapesAsync(
                $"istio_requests_total{{reporter=\"{reporter}\",source_workload=\"{source}\",destination_workload=\"{destination}\",response_code=~\"5..\"}}", TimeSpan.FromMinutes(5), 10);
        }

        var (code, output, errors) = await PlanAsync(AlertFor("frontend"), "--kubernetes-server", cluster.BaseAddress.ToString(),
            "--prometheus", prometheus.BaseAddress.ToString(), "--policy", ExamplePolicy);
        log.WriteLine(output);

        Assert.True(code == 0, errors + output);
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        // The window is the diagnosis's metrics window (5 min unless Remediation__Diagnosis__MetricsWindow says otherwise).
        var header = lines.FindIndex(l => Regex.IsMatch(l, @"^graph      service graph around shop/frontend \([0-9.]+ (min|s) window, 4 edges\)$"));
        Assert.True(header >= 0, output);
        var edges = lines.Skip(header + 1).Select(l => EdgeRow().Match(l)).TakeWhile(m => m.Success).Select(m => new EdgeLine(m.Groups["edge"].Value,
            double.Parse(m.Groups["rate"].Value, System.Globalization.CultureInfo.InvariantCulture),
            double.Parse(m.Groups["e5"].Value, System.Globalization.CultureInfo.InvariantCulture) / 100,
            double.Parse(m.Groups["e4"].Value, System.Globalization.CultureInfo.InvariantCulture) / 100,
            m.Groups["health"].Value, m.Groups["mark"].Success ? m.Groups["mark"].Value : null)).ToDictionary(e => e.Edge);

        Assert.Equal(["shop/checkout -> shop/payments", "shop/frontend -> shop/catalog", "shop/frontend -> shop/checkout", "unknown -> shop/frontend"], edges.Keys.Order(StringComparer.Ordinal));
        var payments = edges["shop/checkout -> shop/payments"];
        Assert.InRange(payments.ServerErrors, 0.4, 0.6);
        Assert.Equal(0, payments.ClientErrors);
        Assert.Equal(("failure", "culprit"), (payments.Health, payments.Mark));
        // Rates as the scenario sets them: 40 req/s into frontend, all of it to catalog, half to checkout, all of that to
        // payments. Over a window longer than Prometheus has been scraping, rate() scales them all down alike.
        var inbound = edges["unknown -> shop/frontend"].Rate;
        Assert.True(inbound > 0, output);
        Assert.InRange(edges["shop/frontend -> shop/catalog"].Rate / inbound, 0.8, 1.2);
        Assert.InRange(edges["shop/frontend -> shop/checkout"].Rate / inbound, 0.4, 0.6);
        Assert.InRange(payments.Rate / edges["shop/frontend -> shop/checkout"].Rate, 0.8, 1.2);
        Assert.Equal(("failure", "victim"), (edges["shop/frontend -> shop/checkout"].Health, edges["shop/frontend -> shop/checkout"].Mark));
        Assert.InRange(edges["shop/frontend -> shop/checkout"].ServerErrors, 0.4, 0.6);
        Assert.Equal(("failure", "victim"), (edges["unknown -> shop/frontend"].Health, edges["unknown -> shop/frontend"].Mark));
        Assert.Null(edges["shop/frontend -> shop/catalog"].Mark);
        Assert.InRange(edges["shop/frontend -> shop/catalog"].ServerErrors, 0, 0.01);
        Assert.Contains("  blame: shop/frontend is a victim of shop/payments (shop/frontend -> shop/checkout -> shop/payments)", lines);
        Assert.Contains("  graph evidence: culprit: shop/payments; victims: shop/checkout, shop/frontend", lines);
        Assert.Contains(lines, l => l.StartsWith("  graph evidence: shop/payments fails for all of its 1 caller(s)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Plan_says_when_the_graph_cannot_be_read_or_no_prometheus_is_configured()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("cascade.yaml");
        var alert = AlertFor("checkout");

        var unreachable = await PlanAsync(alert, "--kubernetes-server", cluster.BaseAddress.ToString(), "--prometheus", "http://127.0.0.1:1/", "--policy", ExamplePolicy);
        Assert.True(unreachable.Code == 0, unreachable.Err + unreachable.Out);
        Assert.Matches(@"(?m)^graph      service graph: unreadable \(Prometheus at http://127\.0\.0\.1:1/ could not be read: .+\)\r?$", unreachable.Out);
        Assert.Matches(@"(?m)^  blame: unknown, suspected shop/checkout\r?$", unreachable.Out);

        var none = await PlanAsync(alert, "--kubernetes-server", cluster.BaseAddress.ToString(), "--policy", ExamplePolicy);
        Assert.True(none.Code == 0, none.Err + none.Out);
        Assert.Contains("graph      not read: no Prometheus configured (--prometheus or Remediation__Prometheus__Url)", none.Out, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
