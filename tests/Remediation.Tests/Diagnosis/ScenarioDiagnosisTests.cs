using k8s;
using Remediation.Alerts;
using Remediation.ClusterSimulator;
using Remediation.Diagnosis;
using Remediation.Tests.Fixtures;
using Xunit.Abstractions;

namespace Remediation.Tests.Diagnosis;

/// <summary>The diagnoser against the cluster simulator's scenarios (Kubernetes evidence only: no Prometheus, no Log Analytics).</summary>
public sealed class ScenarioDiagnosisTests(ITestOutputHelper output)
{
    internal static NormalizedAlert Alert(string ns, string workload, string name = "KubePodCrashLooping") => new()
    {
        Source = AlertSource.Alertmanager,
        Name = name,
        Status = AlertStatus.Firing,
        Fingerprint = "f-" + workload,
        StartsAt = DateTimeOffset.UnixEpoch,
        Labels = new Dictionary<string, string> { ["alertname"] = name, ["namespace"] = ns, ["deployment"] = workload },
        Target = new WorkloadTarget(ns, workload),
    };

    internal static async Task<SimulatedCluster> StartAsync(string scenario)
    {
        var cluster = await SimulatedCluster.StartAsync(new SimulatorOptions());
        cluster.LoadScenarioFile(RepoPaths.Scenario(scenario));
        await cluster.ReconcileAsync();
        await cluster.ReconcileAsync();
        return cluster;
    }

    internal static IKubernetes Client(SimulatedCluster cluster) =>
        new k8s.Kubernetes(new KubernetesClientConfiguration { Host = cluster.BaseAddress.ToString() });

    private async Task<(DiagnosisResult Result, int Reads)> DiagnoseAsync(string scenario, string workload)
    {
        await using var cluster = await StartAsync(scenario);
        using var client = (k8s.Kubernetes)Client(cluster);
        var diagnoser = new KubernetesDiagnoser(new Remediation.Kubernetes.KubernetesClusterReader(client, TimeProvider.System), TimeProvider.System);
        cluster.ClearRequests();
        var result = await diagnoser.DiagnoseAsync(Alert("shop", workload), new WorkloadTarget("shop", workload));
        var reads = cluster.Requests.Count;
        output.WriteLine($"{result.Class} {result.Component} ({result.Confidence}): {result.Summary}");
        foreach (var e in result.Evidence)
        {
            output.WriteLine($"  [{e.Source}] {e.Text}");
        }
        foreach (var u in result.Unavailable)
        {
            output.WriteLine($"  unavailable: {u}");
        }
        output.WriteLine($"  {reads} API calls: {string.Join(", ", cluster.Requests.Select(r => r.Verb + " " + r.Resource))}");
        Assert.DoesNotContain(cluster.Requests, r => r.IsMutating);
        Assert.InRange(reads, 1, 6);
        return (result, reads);
    }

    [Fact]
    public async Task BadRollout_names_the_failing_and_the_healthy_revision()
    {
        var (result, _) = await DiagnoseAsync("bad-rollout.yaml", "checkout");
        Assert.Equal(FailureClass.BadRollout, result.Class);
        Assert.Equal("checkout@2", result.Component);
        Assert.Equal(2, result.FailingRevision);
        Assert.Equal(1, result.HealthyRevision);
        Assert.Contains("crash-loops", result.Summary, StringComparison.Ordinal);
        Assert.Contains(result.Evidence, e => e.Text.Contains("CrashLoopBackOff", StringComparison.Ordinal));
        Assert.Contains(result.Evidence, e => e.Text.Contains("newest revision 2", StringComparison.Ordinal) && e.Text.Contains("checkout:1.5.0", StringComparison.Ordinal));
        Assert.Contains(result.Evidence, e => e.Data?.GetValueOrDefault("kind") == "event" && e.Data["reason"] == "BackOff");
    }

    [Fact]
    public async Task CrashLoop_without_a_recent_change()
    {
        var (result, _) = await DiagnoseAsync("crashloop-no-change.yaml", "worker");
        Assert.Equal(FailureClass.CrashLoop, result.Class);
        Assert.StartsWith("worker", result.Component, StringComparison.Ordinal);
        Assert.Null(result.HealthyRevision);
        Assert.Contains("no recent change", result.Summary, StringComparison.Ordinal);
        Assert.Contains(result.Evidence, e => e.Text.Contains("CrashLoopBackOff", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OutOfMemory_shows_the_memory_limit()
    {
        var (result, _) = await DiagnoseAsync("oom.yaml", "cart");
        Assert.Equal(FailureClass.OutOfMemory, result.Class);
        Assert.StartsWith("cart", result.Component, StringComparison.Ordinal);
        Assert.Contains("128Mi", result.Summary, StringComparison.Ordinal);
        Assert.Contains("restart will not help", result.Summary, StringComparison.Ordinal);
        Assert.Contains(result.Evidence, e => e.Data?.GetValueOrDefault("memoryLimit") == "128Mi");
        Assert.Contains(result.Evidence, e => e.Data?.GetValueOrDefault("reason") == "OOMKilling");
    }

    [Fact]
    public async Task ImagePull_names_the_image()
    {
        var (result, _) = await DiagnoseAsync("image-pull.yaml", "payments");
        Assert.Equal(FailureClass.ImagePull, result.Class);
        Assert.Equal("payments@2", result.Component);
        Assert.Contains("registry.example/payments:2.0.0", result.Summary, StringComparison.Ordinal);
        Assert.Equal(1, result.HealthyRevision);
        Assert.Contains(result.Evidence, e => e.Text.Contains("Failed to pull image", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_failing_pods_own_events_are_read_among_many_others()
    {
        await using var cluster = await StartAsync("pending.yaml");
        using var client = (k8s.Kubernetes)Client(cluster);
        // 600 warnings about other pods, whose names sort before search's: the namespace's first 500 warnings (what a
        // list of the namespace read) hold none of the pending pod's own.
        for (var i = 0; i < 600; i++)
        {
            await client.CoreV1.CreateNamespacedEventAsync(new k8s.Models.Corev1Event
            {
                Metadata = new k8s.Models.V1ObjectMeta { Name = $"aaa-{i:000}.warning" },
                InvolvedObject = new k8s.Models.V1ObjectReference { Kind = "Pod", Name = $"aaa-{i:000}", NamespaceProperty = "shop" },
                Type = "Warning",
                Reason = "BackOff",
                Message = "Back-off restarting failed container app",
            }, "shop");
        }
        cluster.ClearRequests();
        var diagnoser = new KubernetesDiagnoser(new Remediation.Kubernetes.KubernetesClusterReader(client, TimeProvider.System), TimeProvider.System);
        var result = await diagnoser.DiagnoseAsync(Alert("shop", "search"), new WorkloadTarget("shop", "search"));
        Assert.Equal(FailureClass.Unschedulable, result.Class);
        Assert.Contains(result.Evidence, e => e.Data?.GetValueOrDefault("kind") == "event" && e.Data["reason"] == "FailedScheduling");
        Assert.DoesNotContain(result.Evidence, e => e.Text.Contains("aaa-", StringComparison.Ordinal));
        Assert.InRange(cluster.Requests.Count(r => r.Resource == "events"), 1, 3);
    }

    [Fact]
    public async Task Unschedulable_quotes_the_scheduler()
    {
        var (result, _) = await DiagnoseAsync("pending.yaml", "search");
        Assert.Equal(FailureClass.Unschedulable, result.Class);
        Assert.Equal("search@2", result.Component);
        Assert.Contains("Insufficient cpu", result.Summary, StringComparison.Ordinal);
        Assert.Contains(result.Evidence, e => e.Text.Contains("FailedScheduling", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Saturation_with_the_HPA_at_its_maximum()
    {
        var (result, _) = await DiagnoseAsync("saturation.yaml", "api");
        Assert.Equal(FailureClass.Saturation, result.Class);
        Assert.Equal("shop/api", result.Component);
        Assert.Contains("scale-out", result.Summary, StringComparison.Ordinal);
        var hpa = Assert.Single(result.Evidence, e => e.Data?.GetValueOrDefault("kind") == "HorizontalPodAutoscaler");
        Assert.Equal("4", hpa.Data!["currentReplicas"]);
        Assert.Equal("4", hpa.Data["maxReplicas"]);
        Assert.Contains("4/4 replicas", hpa.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthy_workload_means_a_stale_alert()
    {
        var (result, _) = await DiagnoseAsync("healthy.yaml", "checkout");
        Assert.Equal(FailureClass.Healthy, result.Class);
        Assert.Contains("stale", result.Summary, StringComparison.Ordinal);
        // Without Prometheus configured the summary says no metrics were consulted.
        Assert.Contains("no metrics consulted", result.Summary, StringComparison.Ordinal);
        Assert.Contains(result.Unavailable, u => u.StartsWith("prometheus", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Missing_deployment_is_NotFound()
    {
        var (result, _) = await DiagnoseAsync("healthy.yaml", "nope");
        Assert.Equal(FailureClass.NotFound, result.Class);
    }
}
