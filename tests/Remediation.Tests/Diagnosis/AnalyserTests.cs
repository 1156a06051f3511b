using System.Globalization;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;
using Remediation.Alerts;
using Remediation.Diagnosis;

namespace Remediation.Tests.Diagnosis;

/// <summary>The analysers the simulator scenarios do not reach, over an in-memory cluster with fixed ages and mesh readings.</summary>
public sealed class AnalyserTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 2, 10, 0, 0, TimeSpan.Zero);
    private static readonly WorkloadTarget Checkout = new("shop", "checkout");

    /// <summary>Mesh signals answering fixed readings for now and for the baseline (the call with an offset).</summary>
    private sealed class FixedMeshSignals(VersionSignals now, VersionSignals? baseline) : IMeshSignals
    {
        public Task<IReadOnlyList<VersionSignals>> VersionSignalsAsync(string @namespace, IReadOnlyCollection<string> services, TimeSpan window, TimeSpan? offset = null,
            CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<VersionSignals>>(offset is null ? [now] : baseline is null ? [] : [baseline]);

        public Task<double?> WorkloadErrorRatioAsync(string @namespace, string workload, TimeSpan window, CancellationToken cancellationToken = default) =>
            Task.FromResult<double?>(now.ErrorRatio);
    }

    private static Task<DiagnosisResult> DiagnoseAsync(InMemoryClusterReader reader, IMeshSignals? mesh, IReadOnlyList<IWorkloadAnalyser>? analysers = null) =>
        new KubernetesDiagnoser(reader, new FakeTimeProvider(Now), mesh, analysers: analysers)
            .DiagnoseAsync(ScenarioDiagnosisTests.Alert("shop", "checkout", "IstioHigh5xxRate"), Checkout);

    private static double Number(Evidence evidence, string key) => double.Parse(evidence.Data![key], CultureInfo.InvariantCulture);

    [Fact]
    public async Task Errors_since_a_recent_rollout_with_a_clean_baseline_are_a_bad_rollout()
    {
        var reader = InMemoryClusterReader.Checkout(Now, 3, TimeSpan.FromDays(3), TimeSpan.FromMinutes(10));
        var mesh = new FixedMeshSignals(new VersionSignals("checkout", "v2", 12, 0.2, 80), new VersionSignals("checkout", "v1", 11, 0.001, 75));

        var result = await DiagnoseAsync(reader, mesh);

        Assert.Equal(FailureClass.BadRollout, result.Class);
        Assert.Equal("checkout@2", result.Component);
        Assert.Equal(0.7, result.Confidence);
        Assert.Equal(2, result.FailingRevision);
        Assert.Equal(1, result.HealthyRevision);
        Assert.Equal("shop/checkout fails 20% of requests since revision 2 was rolled out 10m ago (baseline 0.1%)", result.Summary);
        var istio = Assert.Single(result.Evidence, e => e.Data?.GetValueOrDefault("kind") == "istio");
        Assert.Equal(0.2, Number(istio, "errorRatio"));
        // The baseline was another version (v1): it is compared per workload in the summary, not joined to v2's evidence.
        Assert.Equal("v2", istio.Data!["version"]);
        Assert.False(istio.Data.ContainsKey("baseline.errorRatio"));
        var newest = Assert.Single(result.Evidence, e => e.Data?.GetValueOrDefault("replicaSet") == "checkout-h2");
        Assert.Equal(600, Number(newest, "ageSeconds"));
    }

    [Fact]
    public async Task Errors_with_running_pods_and_no_recent_change_are_unknown()
    {
        var reader = InMemoryClusterReader.Checkout(Now, 2, TimeSpan.FromDays(9), TimeSpan.FromDays(3));
        var mesh = new FixedMeshSignals(new VersionSignals("checkout", "v2", 5, 0.08, 60), new VersionSignals("checkout", "v2", 5, 0.07, 60));

        var result = await DiagnoseAsync(reader, mesh);

        Assert.Equal(FailureClass.Unknown, result.Class);
        Assert.Equal("shop/checkout", result.Component);
        Assert.Equal(0.4, result.Confidence);
        Assert.Equal("shop/checkout fails 8% of requests with running pods and no recent change", result.Summary);
        Assert.Null(result.FailingRevision);
        var istio = Assert.Single(result.Evidence, e => e.Data?.GetValueOrDefault("kind") == "istio");
        Assert.Equal(0.08, Number(istio, "errorRatio"));
    }

    [Fact]
    public async Task High_latency_with_HPA_headroom_is_not_saturation()
    {
        var reader = InMemoryClusterReader.Checkout(Now, 2, TimeSpan.FromDays(3));
        reader.Hpas.Add(new V2HorizontalPodAutoscaler
        {
            Metadata = new V1ObjectMeta { Name = "checkout", NamespaceProperty = "shop" },
            Spec = new V2HorizontalPodAutoscalerSpec { MinReplicas = 2, MaxReplicas = 10, ScaleTargetRef = new V2CrossVersionObjectReference { Kind = "Deployment", Name = "checkout", ApiVersion = "apps/v1" } },
            Status = new V2HorizontalPodAutoscalerStatus { CurrentReplicas = 2, DesiredReplicas = 3 },
        });
        var mesh = new FixedMeshSignals(new VersionSignals("checkout", "v1", 40, 0.001, 1800), new VersionSignals("checkout", "v1", 40, 0.001, 200));

        var result = await DiagnoseAsync(reader, mesh);

        Assert.Equal(FailureClass.Unknown, result.Class);
        Assert.Equal("shop/checkout", result.Component);
        Assert.Equal(0.4, result.Confidence);
        Assert.Equal("shop/checkout looks loaded (p99 1800 ms (baseline 200 ms), 5xx 0.1%) but HPA checkout still has headroom (2/10)", result.Summary);
        var hpa = Assert.Single(result.Evidence, e => e.Data?.GetValueOrDefault("kind") == "HorizontalPodAutoscaler");
        Assert.Equal(2, Number(hpa, "currentReplicas"));
        Assert.Equal(10, Number(hpa, "maxReplicas"));
        Assert.Equal("false", hpa.Data!["atMax"]);
        // The HPA is read once although the saturation analyser and the evidence both use it.
        Assert.Equal(1, reader.Calls["list horizontalpodautoscalers"]);
    }

    /// <summary>An analyser that blames whatever it is shown, recording what it saw.</summary>
    private sealed class BlameEverything : IWorkloadAnalyser
    {
        public WorkloadView? Seen { get; private set; }

        public Task<Finding?> AnalyseAsync(WorkloadView view, CancellationToken cancellationToken = default)
        {
            Seen = view;
            return Task.FromResult<Finding?>(new Finding(FailureClass.Unknown, "blamed", 0.5, "blamed by a test analyser")
            {
                Evidence = [new Evidence("test", "the test analyser ran")],
            });
        }
    }

    [Fact]
    public async Task An_added_analyser_runs_in_its_place_over_the_view_read_once()
    {
        var reader = InMemoryClusterReader.Checkout(Now, 2, TimeSpan.FromDays(3), TimeSpan.FromDays(1));
        var added = new BlameEverything();

        var result = await DiagnoseAsync(reader, new FixedMeshSignals(new VersionSignals("checkout", "v2", 5, 0, 50), null), [added, .. WorkloadAnalysers.InPrecedence]);

        Assert.Equal("blamed", result.Component);
        Assert.Equal("the test analyser ran", result.Evidence[^1].Text);
        Assert.NotNull(added.Seen);
        Assert.Equal(2, added.Seen.NewestRevision);
        Assert.Equal(1, added.Seen.PreviousRevision);
        Assert.Equal(2, added.Seen.Pods.Count);
        Assert.All(new[] { "get deployment", "list replicasets", "list pods", "list horizontalpodautoscalers" }, call => Assert.Equal(1, reader.Calls[call]));
        Assert.False(reader.Calls.ContainsKey("list events"));
    }

    [Fact]
    public async Task ReplicaSets_not_owned_by_the_Deployment_are_not_its_revisions()
    {
        var reader = InMemoryClusterReader.Checkout(Now, 2, TimeSpan.FromDays(3), TimeSpan.FromDays(1));
        // A newer ReplicaSet matching the labels but owned by nothing (or by no controller) is not a revision of the Deployment.
        var stray = reader.ReplicaSets[^1];
        reader.ReplicaSets.Add(new V1ReplicaSet
        {
            Metadata = new V1ObjectMeta
            {
                Name = "checkout-stray", NamespaceProperty = "shop", CreationTimestamp = Now.UtcDateTime,
                Annotations = new Dictionary<string, string> { [Cluster.DeploymentRevisions.RevisionAnnotation] = "9" },
                OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "checkout", Uid = "uid-checkout", Controller = false }],
            },
            Spec = stray.Spec,
        });
        var added = new BlameEverything();

        await DiagnoseAsync(reader, null, [added]);

        Assert.Equal(["checkout-h2", "checkout-h1"], added.Seen!.ReplicaSets.Select(r => r.Metadata.Name));
    }
}
