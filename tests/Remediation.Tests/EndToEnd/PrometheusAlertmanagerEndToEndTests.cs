using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Remediation.ClusterSimulator;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Xunit.Abstractions;

namespace Remediation.Tests.EndToEnd;

/// <summary>
/// Real monitoring in front: Prometheus scrapes the simulator's Istio and kube-state metrics and evaluates real
/// alert rules, Alertmanager delivers to the standalone host with bearer auth, the product diagnoses (with
/// Prometheus), acts on the simulator, verifies, and records the outcome and the resolved notification.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class PrometheusAlertmanagerEndToEndTests(AzuriteFixture storage, ITestOutputHelper output)
{
    public static readonly string Rules = File.ReadAllText(Path.Combine(RepoPaths.Root, "examples", "prometheus", "rules.yml"));

    public const string Policy = """
        allow:
          namespaces: [shop]
        limits:
          cooldown: 10m
          verifySoak: 5s
          verifyDeadline: 2m
          healthyErrorRatio: 0.05
        rules:
          - name: roll-back-bad-rollouts
            when: { classes: [BadRollout] }
            action: rollback
          - name: shift-traffic
            when: { classes: [DegradedVersion] }
            action: traffic-shift
        """;

    [Fact]
    public async Task Alert_fires_in_Prometheus_Alertmanager_delivers_product_acts_verifies_and_records_the_resolution()
    {
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        cluster.LoadScenarioFile(RepoPaths.Scenario("v2-degraded.yaml"));
        await cluster.ReconcileAsync();
        await using var stack = await MonitoringStack.StartAsync(cluster, storage.ConnectionString, Policy, Rules,
            p => new Dictionary<string, string?> { ["Remediation:Prometheus:Url"] = p.BaseAddress.ToString() });
        var (prometheus, host, alertmanager) = (stack.Prometheus, stack.Host, stack.Alertmanager);

        var clock = Stopwatch.StartNew();
        var firedAt = new Dictionary<string, TimeSpan>();
        var actedAt = new Dictionary<string, TimeSpan>();
        using var http = new HttpClient();
        while (clock.Elapsed < TimeSpan.FromSeconds(90) && actedAt.Count < 2)
        {
            using (var alerts = JsonDocument.Parse(await http.GetStringAsync(new Uri(prometheus.BaseAddress, "api/v1/alerts"))))
            {
                foreach (var alert in alerts.RootElement.GetProperty("data").GetProperty("alerts").EnumerateArray())
                {
                    if (alert.GetProperty("state").GetString() == "firing")
                    {
                        firedAt.TryAdd(alert.GetProperty("labels").GetProperty("alertname").GetString()!, clock.Elapsed);
                    }
                }
            }
            foreach (var request in cluster.Requests.Where(r => r.IsMutating))
            {
                actedAt.TryAdd(request.Resource, clock.Elapsed);
            }
            await Task.Delay(100);
        }
        Assert.True(actedAt.ContainsKey("deployments"), $"no rollback reached the simulator; fired: {string.Join(",", firedAt.Keys)}; alertmanager log: {alertmanager.Log}");
        Assert.True(actedAt.ContainsKey("virtualservices"), $"no traffic shift reached the simulator; fired: {string.Join(",", firedAt.Keys)}");
        var crashLatency = actedAt["deployments"] - firedAt["KubePodCrashLooping"];
        var istioLatency = actedAt["virtualservices"] - firedAt["IstioHigh5xxErrorRate"];
        Report($"alert firing in Prometheus → action at the simulator: KubePodCrashLooping → rollback {crashLatency.TotalSeconds:F1}s, IstioHigh5xxErrorRate → traffic shift {istioLatency.TotalSeconds:F1}s");

        // Exactly one rollback of checkout and one shift of the reviews routes, however many alerts fired.
        var mutating = cluster.Requests.Where(r => r.IsMutating).ToList();
        Assert.Single(mutating, r => r.Resource == "deployments" && r.Name == "checkout");
        Assert.Single(mutating, r => r.Resource == "virtualservices" && r.Name == "reviews");
        Assert.Equal("registry.example/checkout:1.4.2",
            cluster.GetObject("deployments", "shop", "checkout")!["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>());

        // Verified outcomes and recorded resolutions.
        IncidentRecord? rollback = null, shift = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(200))
        {
            var incidents = await host.Store.ListAsync(new IncidentQuery(Namespace: "shop"));
            rollback = incidents.FirstOrDefault(i => i.Action == "rollback");
            shift = incidents.FirstOrDefault(i => i.Action == "traffic-shift");
            if (rollback is { State: IncidentState.Succeeded } && shift is { State: IncidentState.Succeeded } && shift.ResolvedAt is not null)
            {
                break;
            }
            await Task.Delay(500);
        }
        Assert.Equal(IncidentState.Succeeded, rollback?.State);
        Assert.Equal("BadRollout", rollback!.DiagnosisClass);
        Assert.Equal(IncidentState.Succeeded, shift?.State);
        Assert.Equal("DegradedVersion", shift!.DiagnosisClass);
        AssertDegradedV2FailsAboutThirtyPercent(shift.DiagnosisJson);
        Assert.NotNull(shift.ResolvedAt);
        Report($"outcomes: rollback {rollback.State} ({rollback.OutcomeReason}); traffic shift {shift.State} ({shift.OutcomeReason}); IstioHigh5xxErrorRate resolved notification recorded at {shift.ResolvedAt:HH:mm:ss}; total {clock.Elapsed.TotalSeconds:F0}s");
    }

    /// <summary>
    /// The recorded diagnosis names v2 as the degraded version and carries its measured 5xx ratio: the scenario's v2
    /// answers 30% of requests with 503, measured through a real Prometheus (so near 0.30, not exactly).
    /// </summary>
    private static void AssertDegradedV2FailsAboutThirtyPercent(string? diagnosisJson)
    {
        Assert.NotNull(diagnosisJson);
        using var diagnosis = JsonDocument.Parse(diagnosisJson);
        var root = diagnosis.RootElement;
        Assert.Equal("v2", root.GetProperty("degradedVersion").GetString());
        Assert.Equal(["v1"], root.GetProperty("healthyVersions").EnumerateArray().Select(v => v.GetString()));
        var degraded = root.GetProperty("evidence").EnumerateArray()
            .Where(e => e.TryGetProperty("data", out var data) && data.TryGetProperty("degraded", out var flag) && flag.GetString() == "true")
            .Select(e => e.GetProperty("data"))
            .Single(data => data.GetProperty("workload").GetString() == "reviews-v2");
        var errorRatio = double.Parse(degraded.GetProperty("errorRatio").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(errorRatio, 0.2, 0.4);
    }

    private void Report(string line)
    {
        output.WriteLine(line);
        Console.WriteLine("E2E: " + line);
    }
}
