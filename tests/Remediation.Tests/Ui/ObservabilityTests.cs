using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Remediation.ClusterSimulator;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Ui;

/// <summary>/metrics (Prometheus text, scraped by a real Prometheus) and the trace from ingest through the queue to the action.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ObservabilityTests(AzuriteFixture storage)
{
    private static readonly string Policy = File.ReadAllText(Path.Combine(RepoPaths.Root, "examples", "policy.yaml"));

    [Fact]
    public async Task Metrics_after_one_payload_posted_three_times_count_3_received_2_deduplicated_and_one_applied_rollback()
    {
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await cluster.ReconcileAsync();
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, cluster.BaseAddress);
        var payload = await File.ReadAllTextAsync(RepoPaths.Payload("alertmanager/kube-pod-crashlooping.json"));
        string? incidentId = null;
        for (var i = 0; i < 3; i++)
        {
            using var response = await host.Client.PostAsync("api/alerts/alertmanager", new StringContent(payload, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            incidentId = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("incidents")[0].GetString();
        }
        await host.WaitForStateAsync(incidentId!, TimeSpan.FromSeconds(30), IncidentState.Verifying, IncidentState.Succeeded);

        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress };
        using var scrape = await anonymous.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Equal("text/plain", scrape.Content.Headers.ContentType?.MediaType);
        var text = await scrape.Content.ReadAsStringAsync();
        var samples = ParseSamples(text);

        Assert.Contains("# TYPE remediation_alerts_received_total counter", text, StringComparison.Ordinal);
        Assert.Equal(3, samples["remediation_alerts_received_total{source=\"Alertmanager\",status=\"Firing\"}"]);
        Assert.Contains("# TYPE remediation_alerts_deduplicated_total counter", text, StringComparison.Ordinal);
        Assert.Equal(2, samples["remediation_alerts_deduplicated_total{source=\"Alertmanager\"}"]);
        Assert.Contains("# TYPE remediation_actions_total counter", text, StringComparison.Ordinal);
        Assert.Equal(1, samples["remediation_actions_total{action=\"rollback\",outcome=\"applied\"}"]);
        Assert.Single(samples.Keys, k => k.StartsWith("remediation_actions_total{", StringComparison.Ordinal));
        Assert.Contains("# TYPE remediation_action_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Equal(1, samples["remediation_action_duration_seconds_count{action=\"rollback\"}"]);
        Assert.Equal(1, samples["remediation_action_duration_seconds_bucket{action=\"rollback\",le=\"+Inf\"}"]);
        Assert.True(samples["remediation_action_duration_seconds_sum{action=\"rollback\"}"] > 0);
        Assert.Equal(3, samples["remediation_ingest_duration_seconds_count"]);
        Assert.Contains("# TYPE remediation_decisions_total counter", text, StringComparison.Ordinal);

        // The exposition is real Prometheus text: a real Prometheus scrapes it and answers queries on it. A machine
        // without the binary fails here rather than passing without the scrape.
        Assert.True(PrometheusProcess.FindBinary() is not null,
            "the prometheus binary is not on PATH: install it with scripts/install-deps.sh (apt package 'prometheus'), then run the test again");
        await using var prometheus = await PrometheusProcess.StartAsync([$"{host.BaseAddress.Host}:{host.BaseAddress.Port}"], job: "remediation");
        await prometheus.WaitForSeriesAsync("remediation_alerts_received_total{source=\"Alertmanager\",status=\"Firing\"} == 3");
        await prometheus.WaitForSeriesAsync("remediation_actions_total{action=\"rollback\",outcome=\"applied\"} == 1");
        await prometheus.WaitForSeriesAsync("histogram_quantile(0.5, rate(remediation_ingest_duration_seconds_bucket[1m])) >= 0 or remediation_ingest_duration_seconds_count == 3");
    }

    [Fact]
    public async Task One_trace_links_ingest_through_the_queue_to_diagnose_decide_and_act()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RemediationMetrics.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);

        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", Policy);
        // A start time of its own, so no test running alongside shares this incident id.
        var alert = PipelineHarness.Alert("shop", "checkout", startsAt: PipelineHarness.Start.AddSeconds(Random.Shared.Next(1, 1_000_000)));
        var incident = await harness.FireAsync(alert);
        Assert.Equal("rollback", incident.Action);
        Assert.NotNull(incident.TraceParent);

        var mine = spans.Where(s => (s.GetTagItem("remediation.incident_id") as string) == incident.IncidentId).ToList();
        var ingest = Assert.Single(mine, s => s.OperationName == "remediation.ingest");
        Assert.Equal(ActivityKind.Producer, ingest.Kind);
        Assert.Equal(ingest.Id, incident.TraceParent);
        var process = Assert.Single(mine, s => s.OperationName == "remediation.process");
        Assert.Equal(ActivityKind.Consumer, process.Kind);
        Assert.Equal(ingest.TraceId, process.TraceId);
        Assert.Equal(ingest.SpanId, process.ParentSpanId);
        foreach (var stage in new[] { "remediation.diagnose", "remediation.decide", "remediation.act" })
        {
            var span = Assert.Single(mine, s => s.OperationName == stage);
            Assert.Equal(process.TraceId, span.TraceId);
            Assert.Equal(process.SpanId, span.ParentSpanId);
        }
        Assert.Equal("BadRollout", mine.Single(s => s.OperationName == "remediation.diagnose").GetTagItem("remediation.diagnosis"));
        Assert.Equal("rollback", mine.Single(s => s.OperationName == "remediation.act").GetTagItem("remediation.action"));
        Assert.Equal(ActivityStatusCode.Ok, mine.Single(s => s.OperationName == "remediation.act").Status);
    }

    /// <summary>"name{labels} value" lines → value by "name{labels}"; comments skipped.</summary>
    private static Dictionary<string, double> ParseSamples(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }
            var space = line.LastIndexOf(' ');
            samples[line[..space]] = double.Parse(line[(space + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }
        return samples;
    }
}
