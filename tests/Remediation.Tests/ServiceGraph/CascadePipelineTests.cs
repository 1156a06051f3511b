using System.Diagnostics;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Alerts;
using Remediation.ClusterSimulator;
using Remediation.Ingest;
using Remediation.Storage;
using Remediation.Tests.Diagnosis;
using Remediation.Tests.Fixtures;
using Xunit.Abstractions;

namespace Remediation.Tests.ServiceGraph;

/// <summary>
/// One remediation per cascade, in the standalone host's pipeline (Azurite, the simulator, a real Prometheus scraping it):
/// alerts for every workload of a cascade end in one mutation of the culprit, the victims linked to its incident.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CascadePipelineTests(AzuriteFixture storage, ITestOutputHelper output)
{
    private const string Alert = "IstioHigh5xxErrorRate";

    internal static string Policy(string allow = "", string rules = "") => $$"""
        allow:
          namespaces: [shop]
        {{allow}}
        limits:
          cooldown: 10m
          verifySoak: 5s
          verifyDeadline: 2m
          healthyErrorRatio: 0.05
        rules:
          - name: roll-back-bad-rollouts
            when: { classes: [BadRollout] }
            action: rollback
        {{rules}}
        """;

    /// <summary>Short windows, so a rollout seconds old has a baseline before it in a Prometheus started with the test.</summary>
    internal static Dictionary<string, string?> Settings(PrometheusProcess prometheus) => new()
    {
        ["Remediation:Prometheus:Url"] = prometheus.BaseAddress.ToString(),
        ["Remediation:Diagnosis:MetricsWindow"] = "00:00:15",
        ["Remediation:Diagnosis:BaselineOffset"] = "00:00:45",
    };

    [Fact]
    public async Task Cascade_alerts_for_all_three_end_in_one_rollback_of_payments_with_the_victims_linked_and_closed()
    {
        await using var run = await LiveBadRolloutAsync("cascade.yaml", "payments", "registry.example/payments:1.3.0", "registry.example/payments:1.4.1",
            [("destination", "unknown", "frontend"), ("source", "frontend", "checkout"), ("source", "checkout", "payments")], ["frontend", "checkout", "payments"]);

        var lead = AssertOneRollback(run, "payments", "registry.example/payments:1.3.0");
        AssertVictims(run.Incidents, lead, "payments", "frontend", "checkout");
        var own = Assert.Single(run.Incidents, i => i.IncidentId == run.Alerts[2].IncidentId);
        Assert.Equal((IncidentState.Grouped, lead.IncidentId, nameof(IncidentState.Succeeded)), (own.State, own.GroupId, own.Outcome));
    }

    [Fact]
    public async Task Caller_regression_is_the_callers_own_fault_and_the_caller_is_rolled_back()
    {
        await using var run = await LiveBadRolloutAsync("caller-regression.yaml", "checkout", "registry.example/checkout:2.0.0", "registry.example/checkout:2.1.1",
            [("destination", "unknown", "frontend"), ("source", "frontend", "checkout")], ["frontend", "checkout"]);

        var lead = AssertOneRollback(run, "checkout", "registry.example/checkout:2.0.0");
        AssertVictims(run.Incidents, lead, "checkout", "frontend");
        var graph = System.Text.Json.Nodes.JsonNode.Parse(lead.DiagnosisJson!)!["graph"]!;
        Assert.Equal("OwnFault", graph["verdict"]!.GetValue<string>());
    }

    [Fact]
    public async Task Shared_dependency_failing_for_two_independent_callers_is_rolled_back_once_with_both_callers_victims()
    {
        // orders calls inventory over HTTP, catalog over gRPC (status 14): the edges waited on are the HTTP ones, scraped with it.
        await using var run = await LiveBadRolloutAsync("shared-dependency.yaml", "inventory", "registry.example/inventory:5.0.0", "registry.example/inventory:5.1.1",
            [("destination", "unknown", "orders"), ("destination", "unknown", "catalog"), ("source", "orders", "inventory")], ["orders", "catalog", "inventory"]);

        var lead = AssertOneRollback(run, "inventory", "registry.example/inventory:5.0.0");
        AssertVictims(run.Incidents, lead, "inventory", "orders", "catalog");
        AssertOwnAlertLedOrGrouped(run.Incidents, lead, run.Alerts[2].IncidentId);
        // catalog's failures come from gRPC status 14 on its calls to inventory (HTTP 200): the recorded edge carries them.
        var catalog = Assert.Single(run.Incidents, i => i.Workload == "catalog");
        var edges = System.Text.Json.Nodes.JsonNode.Parse(catalog.DiagnosisJson!)!["graph"]!["edges"]!.AsArray();
        var grpc = Assert.Single(edges, e => e!["source"]!["name"]!.GetValue<string>() == "catalog" && e["destination"]!["name"]!.GetValue<string>() == "inventory");
        Assert.InRange(grpc!["grpcErrorRatio"]!.GetValue<double>(), 0.1, 0.6);
    }

    [Fact]
    public async Task Latency_cascade_scales_out_the_saturated_callee_and_not_its_callers()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("latency-cascade.yaml");
        await using var prometheus = await PrometheusProcess.StartAsync([cluster.BaseAddress.Authority], TimeSpan.FromSeconds(1));
        await WaitForSlowEdgesAsync(prometheus, [("destination", "unknown", "frontend"), ("source", "frontend", "catalog"), ("source", "catalog", "pricing")]);
        var rules = """
              - name: scale-out-saturated
                when: { classes: [Saturation] }
                action: scale-out
            """;
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, cluster.BaseAddress, Policy(rules: rules), Settings(prometheus));
        var before = cluster.Requests.Count;

        // Latency alerts for the callers only: the saturated callee gets its incident from the blame.
        await host.Services.GetRequiredService<AlertIngestor>().IngestAsync(
            [PipelineHarness.Alert("shop", "frontend", LatencyAlert), PipelineHarness.Alert("shop", "catalog", LatencyAlert)]);

        var incidents = await WaitForAsync(host, all => all.Count >= 3 && all.All(i => IncidentLifecycle.IsTerminal(i.State) && (i.GroupId is null || IncidentGroupClosure.IsClosed(i))),
            TimeSpan.FromSeconds(120));
        Print(incidents);
        var scale = Assert.Single(cluster.Requests.Skip(before), r => r.IsMutating);
        Assert.Equal(("horizontalpodautoscalers", "pricing"), (scale.Resource, scale.Name));
        Assert.Equal(6, cluster.GetObject("horizontalpodautoscalers", "shop", "pricing")!["spec"]!["maxReplicas"]!.GetValue<int>());
        var lead = Assert.Single(incidents, i => i.Action is not null);
        Assert.Equal(("shop", "pricing", IncidentState.Succeeded, "scale-out", "Saturation"), (lead.Namespace, lead.Workload, lead.State, lead.Action, lead.DiagnosisClass));
        Assert.Equal(3, incidents.Count);
        AssertVictims(incidents, lead, "pricing", "frontend", "catalog");
    }

    private const string LatencyAlert = "IstioHighRequestLatency";

    /// <summary>The alert's own incident: the lead itself, or a member of the lead's group when a victim's derived lead came first.</summary>
    internal static void AssertOwnAlertLedOrGrouped(IReadOnlyList<IncidentRecord> incidents, IncidentRecord lead, string incidentId)
    {
        var own = Assert.Single(incidents, i => i.IncidentId == incidentId);
        if (own.IncidentId != lead.IncidentId)
        {
            Assert.Equal((IncidentState.Grouped, lead.IncidentId, nameof(IncidentState.Succeeded)), (own.State, own.GroupId, own.Outcome));
        }
    }

    /// <summary>
    /// rate() over the diagnosis window (15 s) shows each edge's p99 above the 1 s the diagnosis calls slow, from a window
    /// Prometheus has filled: over the first two or three scrapes one request more or less in a bucket is 2 % of the
    /// increase, and a p99 near a bucket's bound (2.5 s here) reads one or two buckets high (7.5 s for 2.5 s).
    /// </summary>
    private static async Task WaitForSlowEdgesAsync(PrometheusProcess prometheus, (string Reporter, string Source, string Destination)[] edges)
    {
        foreach (var (reporter, source, destination) in edges)
        {
            var edge = $"reporter=\"{reporter}\",source_workload=\"{source}\",destination_workload=\"{destination}\"";
            await prometheus.WaitForScrapesAsync($"istio_request_duration_milliseconds_count{{{edge},response_code=\"200\"}}", TimeSpan.FromSeconds(15), 12);
            await prometheus.WaitForSeriesAsync(
                $"histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{{{edge}}}[15s]))) > 1500", timeout: TimeSpan.FromSeconds(60));
        }
    }

    private sealed record LiveRun(SimulatedCluster Cluster, IReadOnlyList<RecordedRequest> Mutations, IReadOnlyList<NormalizedAlert> Alerts, IReadOnlyList<IncidentRecord> Incidents)
        : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Cluster.DisposeAsync();
    }

    /// <summary>
    /// Rolls <paramref name="workload"/> back to a healthy image, lets Prometheus record a healthy baseline, rolls it out to a
    /// failing image (a new template: the rollout is recent), waits until the failing edges show, fires an alert per workload
    /// and waits until every incident is over and every member closed. The mutations are those after the bad rollout.
    /// </summary>
    private async Task<LiveRun> LiveBadRolloutAsync(string scenario, string workload, string healthy, string failing,
        (string Reporter, string Source, string Destination)[] failingEdges, string[] alerted)
    {
        var cluster = await ScenarioDiagnosisTests.StartAsync(scenario);
        try
        {
            using var client = (k8s.Kubernetes)ScenarioDiagnosisTests.Client(cluster);
            await SetImageAsync(client, workload, healthy);
            await using var prometheus = await PrometheusProcess.StartAsync([cluster.BaseAddress.Authority], TimeSpan.FromSeconds(1));
            // A healthy baseline 45 s back (the diagnosis' offset), then the bad rollout.
            await prometheus.WaitForSeriesAsync(
                $"(sum(rate(istio_requests_total{{destination_workload=\"{workload}\"}}[15s] offset 45s)) > 0) unless (sum(rate(istio_requests_total{{destination_workload=\"{workload}\",response_code=~\"5..\"}}[15s] offset 45s)) > 0)",
                timeout: TimeSpan.FromSeconds(120));
            await SetImageAsync(client, workload, failing);
            var rolledOut = cluster.Requests.Count;
            await WaitForFailingEdgesAsync(prometheus, failingEdges);
            await using var host = await HostHarness.StartAsync(storage.ConnectionString, cluster.BaseAddress, Policy(), Settings(prometheus));

            var alerts = alerted.Select(w => PipelineHarness.Alert("shop", w, Alert)).ToList();
            await host.Services.GetRequiredService<AlertIngestor>().IngestAsync(alerts);
            var incidents = await WaitForAsync(host, all => all.Count >= alerted.Length && all.All(i => IncidentLifecycle.IsTerminal(i.State) && (i.GroupId is null || IncidentGroupClosure.IsClosed(i))),
                TimeSpan.FromSeconds(180));
            Print(incidents);
            return new LiveRun(cluster, cluster.Requests.Skip(rolledOut).Where(r => r.IsMutating).ToList(), alerts, incidents);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Exactly one mutation, the rollback of <paramref name="workload"/> to <paramref name="healthy"/>, by the one incident that acted, verified.</summary>
    private static IncidentRecord AssertOneRollback(LiveRun run, string workload, string healthy)
    {
        var rollback = Assert.Single(run.Mutations);
        Assert.Equal(("deployments", workload), (rollback.Resource, rollback.Name));
        Assert.Equal(healthy, Image(run.Cluster, workload));
        var lead = Assert.Single(run.Incidents, i => i.Action is not null);
        Assert.Equal(("shop", workload, IncidentState.Succeeded, "rollback", "BadRollout"), (lead.Namespace, lead.Workload, lead.State, lead.Action, lead.DiagnosisClass));
        return lead;
    }

    /// <summary>Each victim's incident: Victim, linked to the lead, closed with its outcome, its recorded graph naming the culprit.</summary>
    internal static void AssertVictims(IReadOnlyList<IncidentRecord> incidents, IncidentRecord lead, string culprit, params string[] victims)
    {
        foreach (var victim in victims)
        {
            var member = Assert.Single(incidents, i => i.Workload == victim);
            Assert.Equal((IncidentState.Victim, lead.IncidentId, nameof(IncidentState.Succeeded), "Victim"), (member.State, member.GroupId, member.Outcome, member.DiagnosisClass));
            var graph = System.Text.Json.Nodes.JsonNode.Parse(member.DiagnosisJson!)!["graph"];
            Assert.True(graph is not null, member.DiagnosisJson);
            Assert.Equal(("Callee", culprit), (graph["verdict"]!.GetValue<string>(), graph["culprit"]!["name"]!.GetValue<string>()));
        }
    }

    [Fact]
    public async Task Culprit_outside_the_allowlist_is_escalated_by_name_and_no_victim_is_touched()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("cascade.yaml");
        await using var prometheus = await PrometheusProcess.StartAsync([cluster.BaseAddress.Authority], TimeSpan.FromSeconds(1));
        await WaitForFailingEdgesAsync(prometheus, [("destination", "unknown", "frontend"), ("source", "frontend", "checkout")]);
        var allow = "  workloads: [shop/frontend, shop/checkout]";
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, cluster.BaseAddress, Policy(allow), Settings(prometheus));
        var before = cluster.Requests.Count;

        await host.Services.GetRequiredService<AlertIngestor>().IngestAsync(
            [PipelineHarness.Alert("shop", "frontend", Alert), PipelineHarness.Alert("shop", "checkout", Alert)]);

        var incidents = await WaitForAsync(host, all => all.Count == 2 && all.All(i => IncidentLifecycle.IsTerminal(i.State)), TimeSpan.FromSeconds(60));
        Print(incidents);
        Assert.All(incidents, i =>
        {
            Assert.Equal(IncidentState.Escalated, i.State);
            Assert.Equal("Victim", i.DiagnosisClass);
            Assert.Contains("the culprit shop/payments is not remediated (workload 'shop/payments' matches no allowlisted workload pattern", i.OutcomeReason, StringComparison.Ordinal);
            Assert.Null(i.GroupId);
        });
        Assert.DoesNotContain(cluster.Requests.Skip(before), r => r.IsMutating);
    }

    internal static async Task SetImageAsync(k8s.Kubernetes client, string workload, string image)
    {
        var patch = $$"""[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"{{image}}"}]""";
        await client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(patch, V1Patch.PatchType.JsonPatch), workload, "shop");
    }

    internal static string Image(SimulatedCluster cluster, string workload) =>
        cluster.GetObject("deployments", "shop", workload)!["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>();

    /// <summary>rate() over the diagnosis window (15 s) has two samples of every failing edge's 5xx series, from the reporter the graph prefers.</summary>
    internal static async Task WaitForFailingEdgesAsync(PrometheusProcess prometheus, (string Reporter, string Source, string Destination)[] edges)
    {
        foreach (var (reporter, source, destination) in edges)
        {
            // Each edge fails well above the 5 % the diagnosis calls erroring (frontend, half of whose calls go to checkout, ~25 %).
            var edge = $"reporter=\"{reporter}\",source_workload=\"{source}\",destination_workload=\"{destination}\"";
            await prometheus.WaitForSeriesAsync(
                $"sum(rate(istio_requests_total{{{edge},response_code=~\"5..\"}}[15s])) / sum(rate(istio_requests_total{{{edge}}}[15s])) > 0.15", timeout: TimeSpan.FromSeconds(60));
        }
    }

    /// <summary>Waits until the recorded incidents satisfy <paramref name="done"/>; fails with what they are then.</summary>
    private async Task<IReadOnlyList<IncidentRecord>> WaitForAsync(HostHarness host, Func<IReadOnlyList<IncidentRecord>, bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        IReadOnlyList<IncidentRecord> incidents = [];
        while (clock.Elapsed < timeout)
        {
            incidents = await host.Store.ListAsync(new IncidentQuery(Namespace: "shop"));
            if (done(incidents))
            {
                return incidents;
            }
            await Task.Delay(250);
        }
        Print(incidents);
        throw new TimeoutException($"the incidents did not reach the expected states in {timeout.TotalSeconds:0} s");
    }

    private void Print(IReadOnlyList<IncidentRecord> incidents)
    {
        foreach (var i in incidents.OrderBy(i => i.ReceivedAt))
        {
            output.WriteLine($"{i.IncidentId[..8]} {i.Namespace}/{i.Workload} {i.State} [{i.DiagnosisClass}] group={i.GroupId?[..8]} action={i.Action} outcome={i.Outcome}: {i.OutcomeReason}");
            output.WriteLine($"    diagnosis: {i.DiagnosisSummary}");
            var blame = i.DiagnosisJson is { } json ? System.Text.Json.Nodes.JsonNode.Parse(json)?["graph"]?["evidence"]?.AsArray() : null;
            foreach (var line in blame ?? [])
            {
                output.WriteLine($"    blame: {line}");
            }
        }
    }
}
