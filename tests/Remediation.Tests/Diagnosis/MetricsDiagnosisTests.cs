using System.Diagnostics;
using System.Net;
using Azure.Core.Pipeline;
using Remediation.ClusterSimulator;
using Remediation.Diagnosis;
using Remediation.Metrics;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Xunit.Abstractions;

namespace Remediation.Tests.Diagnosis;

/// <summary>The diagnoser with its optional sources: Prometheus (recorded and real), Log Analytics (recorded), and their failures.</summary>
public sealed class MetricsDiagnosisTests(ITestOutputHelper output)
{
    private static readonly Uri PrometheusUrl = new("http://prometheus.test:9090/");

    private void Print(DiagnosisResult result)
    {
        output.WriteLine($"{result.Class} {result.Component} ({result.Confidence}): {result.Summary}");
        foreach (var e in result.Evidence)
        {
            output.WriteLine($"  [{e.Source}] {e.Text}");
        }
        foreach (var u in result.Unavailable)
        {
            output.WriteLine($"  unavailable: {u}");
        }
    }

    private static IstioSignals Istio(RecordingHandler handler) =>
        new(new PrometheusClient(new HttpClient(handler), PrometheusUrl, PrometheusAuthenticator.None, TimeSpan.FromSeconds(5), TimeProvider.System));

    [Fact]
    public async Task DegradedVersion_from_recorded_Istio_metrics_with_the_routing_in_evidence()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("v2-degraded.yaml");
        using var client = (k8s.Kubernetes)ScenarioDiagnosisTests.Client(cluster);
        var prometheus = new RecordingHandler(r => r.Query("query")!.Contains("offset", StringComparison.Ordinal)
            ? RecordingHandler.File("prometheus/empty-vector.json")
            : RecordingHandler.File(PrometheusClientTests.ReviewsPayload(r)));
        var diagnoser = new KubernetesDiagnoser(new Remediation.Kubernetes.KubernetesClusterReader(client, TimeProvider.System), TimeProvider.System, Istio(prometheus));
        cluster.ClearRequests();

        var result = await diagnoser.DiagnoseAsync(ScenarioDiagnosisTests.Alert("shop", "reviews-v2", "IstioHighErrorRate"), new("shop", "reviews-v2"));
        Print(result);

        Assert.Equal(FailureClass.DegradedVersion, result.Class);
        Assert.Equal("reviews:v2", result.Component);
        Assert.Equal("v2", result.DegradedVersion);
        Assert.Equal(["v1"], result.HealthyVersions);
        Assert.Contains("30%", result.Summary, StringComparison.Ordinal);
        Assert.Contains("0.1%", result.Summary, StringComparison.Ordinal);
        var v2 = Assert.Single(result.Evidence, e => e.Data?.GetValueOrDefault("kind") == "istio" && e.Data["version"] == "v2");
        Assert.Equal("true", v2.Data!["degraded"]);
        Assert.Equal("0.3", v2.Data["errorRatio"]);
        Assert.Equal("900", v2.Data["p99Ms"]);
        Assert.Contains(result.Evidence, e => e.Text == "VirtualService reviews routes reviews: reviews subset v1 50%, reviews subset v2 50%");
        Assert.Contains(result.Evidence, e => e.Text.StartsWith("DestinationRule reviews subsets: v1 (version=v1), v2 (version=v2)", StringComparison.Ordinal));
        Assert.Empty(result.Unavailable);
        Assert.Equal(6, prometheus.Requests.Count); // rate, 5xx, p99 now and at the baseline
        Assert.InRange(cluster.Requests.Count, 1, 6);
        Assert.DoesNotContain(cluster.Requests, r => r.IsMutating);
    }

    [Fact]
    public async Task Failing_Prometheus_degrades_the_diagnosis_instead_of_failing_it()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("bad-rollout.yaml");
        using var client = (k8s.Kubernetes)ScenarioDiagnosisTests.Client(cluster);
        var prometheus = new RecordingHandler(_ => RecordingHandler.File("prometheus/error-bad-data.json", HttpStatusCode.BadRequest));
        var result = await new KubernetesDiagnoser(new Remediation.Kubernetes.KubernetesClusterReader(client, TimeProvider.System), TimeProvider.System, Istio(prometheus)).DiagnoseAsync(ScenarioDiagnosisTests.Alert("shop", "checkout"), new("shop", "checkout"));
        Print(result);

        Assert.Equal(FailureClass.BadRollout, result.Class);
        Assert.Contains(result.Unavailable, u => u.StartsWith("prometheus: ", StringComparison.Ordinal) && u.Contains("bad_data", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Hanging_Prometheus_is_cut_off_by_the_diagnosis_budget()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("healthy.yaml");
        using var client = (k8s.Kubernetes)ScenarioDiagnosisTests.Client(cluster);
        var prometheus = new RecordingHandler(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return RecordingHandler.Json("{}");
        });
        var options = new DiagnosisOptions { Budget = TimeSpan.FromSeconds(1) };
        var watch = Stopwatch.StartNew();
        var result = await new KubernetesDiagnoser(new Remediation.Kubernetes.KubernetesClusterReader(client, TimeProvider.System), TimeProvider.System, Istio(prometheus), options: options)
            .DiagnoseAsync(ScenarioDiagnosisTests.Alert("shop", "checkout"), new("shop", "checkout"));
        Print(result);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"took {watch.Elapsed}");
        // Ready pods without the metrics do not show the alert is stale.
        Assert.Equal(FailureClass.Unknown, result.Class);
        Assert.StartsWith("metrics unavailable: prometheus: diagnosis budget of 1s exhausted", result.Summary, StringComparison.Ordinal);
        Assert.Contains("prometheus: diagnosis budget of 1s exhausted", result.Unavailable);
    }

    /// <summary>A configured mesh-signals source whose every query fails as a stopped Prometheus does.</summary>
    private sealed class RefusingMeshSignals : IMeshSignals
    {
        public int Calls;

        private HttpRequestException Refused()
        {
            Interlocked.Increment(ref Calls);
            return new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (prometheus.test:9090)",
                new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
        }

        public Task<IReadOnlyList<VersionSignals>> VersionSignalsAsync(string @namespace, IReadOnlyCollection<string> services, TimeSpan window, TimeSpan? offset = null,
            CancellationToken cancellationToken = default) => Task.FromException<IReadOnlyList<VersionSignals>>(Refused());

        public Task<double?> WorkloadErrorRatioAsync(string @namespace, string workload, TimeSpan window, CancellationToken cancellationToken = default) =>
            Task.FromException<double?>(Refused());
    }

    [Fact]
    public async Task Unreadable_Prometheus_makes_ready_pods_Unknown_not_Healthy()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("healthy.yaml");
        using var client = (k8s.Kubernetes)ScenarioDiagnosisTests.Client(cluster);
        var mesh = new RefusingMeshSignals();
        var result = await new KubernetesDiagnoser(new Remediation.Kubernetes.KubernetesClusterReader(client, TimeProvider.System), TimeProvider.System, mesh)
            .DiagnoseAsync(ScenarioDiagnosisTests.Alert("shop", "checkout", "IstioHigh5xxRate"), new("shop", "checkout"));
        Print(result);

        Assert.True(mesh.Calls > 0);
        Assert.Equal(FailureClass.Unknown, result.Class);
        Assert.StartsWith("metrics unavailable: prometheus: connection refused; all ", result.Summary, StringComparison.Ordinal);
        Assert.Contains("pods of shop/checkout are ready, which alone does not show the alert is stale", result.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.Summary, StringComparison.Ordinal);
        Assert.Contains("prometheus: connection refused", result.Unavailable);
    }

    [Fact]
    public async Task Unreadable_Prometheus_leaves_pod_failures_diagnosable_from_Kubernetes()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("oom.yaml");
        using var client = (k8s.Kubernetes)ScenarioDiagnosisTests.Client(cluster);
        var result = await new KubernetesDiagnoser(new Remediation.Kubernetes.KubernetesClusterReader(client, TimeProvider.System), TimeProvider.System, new RefusingMeshSignals())
            .DiagnoseAsync(ScenarioDiagnosisTests.Alert("shop", "cart"), new("shop", "cart"));
        Print(result);

        Assert.Equal(FailureClass.OutOfMemory, result.Class);
        Assert.Contains("prometheus: connection refused", result.Unavailable);
    }

    [Fact]
    public async Task Unreadable_Prometheus_does_not_conclude_saturation_from_CPU_alone()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("saturation.yaml");
        using var client = (k8s.Kubernetes)ScenarioDiagnosisTests.Client(cluster);
        var result = await new KubernetesDiagnoser(new Remediation.Kubernetes.KubernetesClusterReader(client, TimeProvider.System), TimeProvider.System, new RefusingMeshSignals())
            .DiagnoseAsync(ScenarioDiagnosisTests.Alert("shop", "api", "IstioHighLatency"), new("shop", "api"));
        Print(result);

        Assert.Equal(FailureClass.Unknown, result.Class);
        Assert.StartsWith("metrics unavailable: prometheus: connection refused; ", result.Summary, StringComparison.Ordinal);
        Assert.Contains("CPU", result.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_Analytics_adds_pod_inventory_and_error_lines()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("bad-rollout.yaml");
        using var client = (k8s.Kubernetes)ScenarioDiagnosisTests.Client(cluster);
        var (logs, handler) = LogAnalyticsClientTests.Create(r => RecordingHandler.File(r.Body!.Contains("ContainerLogV2", StringComparison.Ordinal)
            ? "loganalytics/containerlogv2.json" : "loganalytics/kubepodinventory.json"));
        var result = await new KubernetesDiagnoser(new Remediation.Kubernetes.KubernetesClusterReader(client, TimeProvider.System), TimeProvider.System, insights: new LogAnalyticsContainerInsights(logs))
            .DiagnoseAsync(ScenarioDiagnosisTests.Alert("shop", "checkout"), new("shop", "checkout"));
        Print(result);

        Assert.Equal(FailureClass.BadRollout, result.Class);
        Assert.Contains(result.Evidence, e => e.Source == "log analytics" && e.Text.Contains("KubePodInventory checkout-7d9f8b6c5-x2k4p/checkout: Running, waiting CrashLoopBackOff, 7 restarts", StringComparison.Ordinal));
        Assert.Contains(result.Evidence, e => e.Source == "log analytics" && e.Text.Contains("FATAL: config key PAYMENTS_URL", StringComparison.Ordinal));
        Assert.Equal(2, handler.Requests.Count);
        var logQuery = handler.Requests.Single(r => r.Body!.Contains("ContainerLogV2", StringComparison.Ordinal)).Body!;
        foreach (var pod in cluster.ListObjects("pods", "shop").Select(p => p["metadata"]!["name"]!.GetValue<string>()).Where(n => n.StartsWith("checkout-", StringComparison.Ordinal)))
        {
            Assert.Contains(pod, logQuery, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Failing_Log_Analytics_is_reported_unavailable()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("oom.yaml");
        using var client = (k8s.Kubernetes)ScenarioDiagnosisTests.Client(cluster);
        var (logs, _) = LogAnalyticsClientTests.Create(_ => RecordingHandler.File("loganalytics/error-syntax.json", HttpStatusCode.BadRequest));
        var result = await new KubernetesDiagnoser(new Remediation.Kubernetes.KubernetesClusterReader(client, TimeProvider.System), TimeProvider.System, insights: new LogAnalyticsContainerInsights(logs))
            .DiagnoseAsync(ScenarioDiagnosisTests.Alert("shop", "cart"), new("shop", "cart"));

        Assert.Equal(FailureClass.OutOfMemory, result.Class);
        Assert.Contains(result.Unavailable, u => u.StartsWith("log analytics KubePodInventory: ", StringComparison.Ordinal) && u.Contains("BadArgumentError", StringComparison.Ordinal));
        Assert.Contains(result.Unavailable, u => u.StartsWith("log analytics ContainerLogV2: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unreachable_Kubernetes_API_is_a_transient_dependency_failure()
    {
        using var client = new k8s.Kubernetes(new k8s.KubernetesClientConfiguration { Host = $"http://127.0.0.1:{FreePort.Next()}" });
        var ex = await Assert.ThrowsAsync<TransientDependencyException>(() =>
            new KubernetesDiagnoser(new Remediation.Kubernetes.KubernetesClusterReader(client, TimeProvider.System), TimeProvider.System).DiagnoseAsync(ScenarioDiagnosisTests.Alert("shop", "checkout"), new("shop", "checkout")));
        Assert.Equal("kubernetes", ex.Dependency);
    }

    [Fact]
    public async Task Forbidden_optional_Kubernetes_read_degrades_the_diagnosis()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("saturation.yaml");
        cluster.Faults.Add(new FaultRule { Verb = "list", Resource = "horizontalpodautoscalers", StatusCode = 403 });
        using var client = (k8s.Kubernetes)ScenarioDiagnosisTests.Client(cluster);
        var result = await new KubernetesDiagnoser(new Remediation.Kubernetes.KubernetesClusterReader(client, TimeProvider.System), TimeProvider.System).DiagnoseAsync(ScenarioDiagnosisTests.Alert("shop", "api"), new("shop", "api"));
        Print(result);
        Assert.Contains(result.Unavailable, u => u.StartsWith("kubernetes horizontalpodautoscalers: 403", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Saturation_from_p99_latency_names_the_HPA_at_its_maximum()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("saturation.yaml");
        using var client = (k8s.Kubernetes)ScenarioDiagnosisTests.Client(cluster);
        var prometheus = new RecordingHandler(r =>
        {
            var q = r.Query("query")!;
            var value = q.Contains("histogram_quantile", StringComparison.Ordinal) ? (q.Contains("offset", StringComparison.Ordinal) ? "450" : "2500")
                : q.Contains("5..", StringComparison.Ordinal) ? "2" : "400";
            return RecordingHandler.Json($$$"""{"status":"success","data":{"resultType":"vector","result":[{"metric":{"destination_workload":"api","destination_version":"v1"},"value":[1717322400,"{{{value}}}"]}]}}""");
        });
        var result = await new KubernetesDiagnoser(new Remediation.Kubernetes.KubernetesClusterReader(client, TimeProvider.System), TimeProvider.System, Istio(prometheus)).DiagnoseAsync(ScenarioDiagnosisTests.Alert("shop", "api", "IstioHighLatency"), new("shop", "api"));
        Print(result);

        Assert.Equal(FailureClass.Saturation, result.Class);
        Assert.Contains("p99 2500 ms (baseline 450 ms)", result.Summary, StringComparison.Ordinal);
        Assert.Contains("5xx 0.5%", result.Summary, StringComparison.Ordinal);
        Assert.Contains("HPA api is at its maximum (4/4 replicas, wants 6)", result.Summary, StringComparison.Ordinal);
        Assert.Equal(0.85, result.Confidence);
    }

    /// <summary>End to end with a real Prometheus scraping the simulator's Istio metrics every second.</summary>
    [Fact]
    public async Task Real_Prometheus_names_v2_as_the_degraded_version()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("v2-degraded.yaml");
        await using var prometheus = await PrometheusProcess.StartAsync([cluster.BaseAddress.Authority], TimeSpan.FromSeconds(1));
        // rate() needs two samples of both the total and the 5xx series of each version.
        await prometheus.WaitForSeriesAsync("sum(rate(istio_requests_total{destination_workload_namespace=\"shop\",response_code=~\"5..\"}[30s])) by (destination_version) > 0", 1);
        await prometheus.WaitForSeriesAsync("sum(rate(istio_requests_total{destination_workload_namespace=\"shop\"}[30s])) by (destination_version) > 0", 2);
        await Task.Delay(TimeSpan.FromSeconds(3));

        using var http = new HttpClient();
        var mesh = new IstioSignals(new PrometheusClient(http, prometheus.BaseAddress, PrometheusAuthenticator.None, TimeSpan.FromSeconds(5), TimeProvider.System));
        using var client = (k8s.Kubernetes)ScenarioDiagnosisTests.Client(cluster);
        var options = new DiagnosisOptions { MetricsWindow = TimeSpan.FromSeconds(30) };
        var result = await new KubernetesDiagnoser(new Remediation.Kubernetes.KubernetesClusterReader(client, TimeProvider.System), TimeProvider.System, mesh, options: options)
            .DiagnoseAsync(ScenarioDiagnosisTests.Alert("shop", "reviews-v2", "IstioHighErrorRate"), new("shop", "reviews-v2"));
        Print(result);

        Assert.Equal(FailureClass.DegradedVersion, result.Class);
        Assert.Equal("reviews:v2", result.Component);
        Assert.Equal("v2", result.DegradedVersion);
        Assert.Equal(["v1"], result.HealthyVersions);
        var v2 = Assert.Single(result.Evidence, e => e.Data?.GetValueOrDefault("kind") == "istio" && e.Data["version"] == "v2");
        var v1 = Assert.Single(result.Evidence, e => e.Data?.GetValueOrDefault("kind") == "istio" && e.Data["version"] == "v1");
        Assert.InRange(double.Parse(v2.Data!["errorRatio"], System.Globalization.CultureInfo.InvariantCulture), 0.2, 0.4);
        Assert.InRange(double.Parse(v1.Data!["errorRatio"], System.Globalization.CultureInfo.InvariantCulture), 0, 0.02);
        Assert.Equal("reviews-v2", v2.Data["workload"]);
        Assert.True(double.Parse(v2.Data["p99Ms"], System.Globalization.CultureInfo.InvariantCulture) > 3 * double.Parse(v1.Data["p99Ms"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("reviews-v2 (version v2)", v2.Text, StringComparison.Ordinal);
        Assert.Contains(result.Evidence, e => e.Text.StartsWith("VirtualService reviews", StringComparison.Ordinal));
    }
}
