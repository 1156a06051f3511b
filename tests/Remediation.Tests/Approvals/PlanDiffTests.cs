using System.Globalization;
using System.Text.Json.Nodes;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;
using Remediation.Actions;
using Remediation.Alerts;
using Remediation.Approvals;
using Remediation.Cluster;
using Remediation.ClusterSimulator;
using Remediation.Diagnosis;
using Remediation.Kubernetes;
using Remediation.Policy;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Approvals;

/// <summary>The diff of each action's real plan: the actions plan against simulator scenarios through KubernetesClient.</summary>
public sealed class PlanDiffTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-12-01T09:00:00Z", CultureInfo.InvariantCulture);

    private static async Task<ActionPlan> PlanAsync(string scenario, WorkloadTarget target, Func<IClusterReader, TimeProvider, IRemediationAction> action,
        Func<DiagnosisResult, DiagnosisResult>? diagnosis = null, Dictionary<string, string>? parameters = null)
    {
        var time = new FakeTimeProvider(Now);
        await using var cluster = await SimulatedCluster.StartAsync(new SimulatorOptions { TimeProvider = time });
        cluster.LoadScenarioFile(RepoPaths.Scenario(scenario));
        await cluster.ReconcileAsync();
        using var client = new k8s.Kubernetes(new k8s.KubernetesClientConfiguration { Host = cluster.BaseAddress.ToString() });
        var reader = new KubernetesClusterReader(client, time);
        var result = new DiagnosisResult { Class = FailureClass.BadRollout, Target = target, Component = target.Name, Confidence = 0.9, Summary = "test" };
        var context = new ActionContext(target, diagnosis?.Invoke(result) ?? result, parameters ?? [], new SafetyLimits());
        return await action(reader, time).PlanAsync(context);
    }

    [Fact]
    public async Task Rollback_shows_the_image_going_back_and_the_annotations_it_replaces_as_not_recorded()
    {
        var plan = await PlanAsync("bad-rollout.yaml", new WorkloadTarget("shop", "checkout"), (r, _) => new RollbackAction(r));
        var diff = PlanDiff.Of(plan);

        var image = Assert.Single(diff.Changes, c => c.Path.EndsWith(".image", StringComparison.Ordinal));
        Assert.Equal("Deployment shop/checkout spec.template.spec.containers[checkout].image: registry.example/checkout:1.5.0 -> registry.example/checkout:1.4.2", image.ToString());
        Assert.Equal(("Deployment", "shop", "checkout", "registry.example/checkout:1.5.0", "registry.example/checkout:1.4.2", true),
            (image.Kind, image.Namespace, image.Name, image.Before, image.After, image.BeforeRecorded));
        var annotations = Assert.Single(diff.Changes, c => c.Path == "metadata.annotations");
        Assert.False(annotations.BeforeRecorded);
        Assert.StartsWith("Deployment shop/checkout metadata.annotations: (not recorded) -> {", annotations.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(diff.Changes, c => c.Path.Contains("resourceVersion", StringComparison.Ordinal));
        Assert.Equal(2, diff.Changes.Count);
    }

    [Fact]
    public async Task Restart_shows_the_restartedAt_annotation_appearing()
    {
        var plan = await PlanAsync("crashloop-no-change.yaml", new WorkloadTarget("shop", "worker"), (r, t) => new RolloutRestartAction(r, t),
            parameters: new() { ["smallestStep"] = "false" });
        Assert.Equal(
            "Deployment shop/worker spec.template.metadata.annotations[kubectl.kubernetes.io/restartedAt]: (none) -> 2026-12-01T09:00:00+00:00",
            PlanDiff.Of(plan).ToText());
    }

    [Fact]
    public async Task Scale_out_shows_hpa_max_or_deployment_replicas()
    {
        var hpa = await PlanAsync("saturation.yaml", new WorkloadTarget("shop", "api"), (r, _) => new ScaleOutAction(r));
        Assert.Equal("HorizontalPodAutoscaler shop/api spec.maxReplicas: 4 -> 6", PlanDiff.Of(hpa).ToText());

        var deployment = await PlanAsync("healthy.yaml", new WorkloadTarget("shop", "checkout"), (r, _) => new ScaleOutAction(r));
        Assert.Equal("Deployment shop/checkout spec.replicas: 3 -> 5", PlanDiff.Of(deployment).ToText());
    }

    [Fact]
    public async Task Traffic_shift_shows_each_weight_of_the_virtualservice_and_the_httproute()
    {
        var plan = await PlanAsync("v2-degraded.yaml", new WorkloadTarget("shop", "reviews-v2"),
            (r, _) => new TrafficShiftAction(r, [new IstioVirtualServiceRouter(r), new GatewayHttpRouteRouter(r)]),
            d => d with { Class = FailureClass.DegradedVersion, DegradedVersion = "v2", HealthyVersions = ["v1"] });
        var lines = PlanDiff.Of(plan).ToText().Split('\n');

        Assert.Contains("VirtualService shop/reviews spec.http[0].route[0].weight: 50 -> 100", lines);
        Assert.Contains("VirtualService shop/reviews spec.http[0].route[1].weight: 50 -> 0", lines);
        Assert.Contains("HTTPRoute shop/reviews-route spec.rules[0].backendRefs[reviews-v1].weight: 50 -> 100", lines);
        Assert.Contains("HTTPRoute shop/reviews-route spec.rules[0].backendRefs[reviews-v2].weight: 50 -> 0", lines);
        Assert.Contains(lines, l => l.StartsWith("VirtualService shop/reviews metadata.annotations[remediation.io/original-routes]: (not recorded) -> [{", StringComparison.Ordinal));
        Assert.Equal(6, lines.Length);
    }

    [Fact]
    public void Delete_pod_shows_the_pod_and_why_it_goes()
    {
        var target = new WorkloadTarget("shop", "worker");
        var context = new ActionContext(target, new DiagnosisResult { Class = FailureClass.CrashLoop, Target = target, Component = "worker", Confidence = 0.9, Summary = "test" }, new Dictionary<string, string>(), new SafetyLimits());
        var plan = DeletePodAction.PlanFor(context, [Pod("worker-7d9c6b5f4-a1", ready: true), Pod("worker-7d9c6b5f4-b2", ready: false)], out var whyNot);
        Assert.True(plan is not null, whyNot);
        Assert.Equal("Pod shop/worker-7d9c6b5f4-b2: exists (CrashLoopBackOff, 7 restarts) -> deleted (its ReplicaSet recreates it)", PlanDiff.Of(plan).ToText());
    }

    private static V1Pod Pod(string name, bool ready) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "shop", ResourceVersion = "12", Labels = new Dictionary<string, string> { ["pod-template-hash"] = "7d9c6b5f4" } },
        Status = new V1PodStatus
        {
            Conditions = [new V1PodCondition { Type = "Ready", Status = ready ? "True" : "False" }],
            ContainerStatuses = ready ? [] : [new V1ContainerStatus { Name = "worker", Image = "w", ImageID = "", Ready = false, RestartCount = 7, State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "CrashLoopBackOff" } } }],
        },
    };

    private static ActionPlan Recorded(Mutation mutation, JsonObject prior) => new()
    {
        Action = "rollback", Target = new WorkloadTarget("shop", "payments"), Summary = "s", Mutations = [mutation], PriorState = prior, Verify = new VerificationSpec(),
    };

    [Fact]
    public void Containers_are_matched_by_name_removals_show_none_and_values_are_escaped_and_cut()
    {
        var before = JsonNode.Parse("""
            {"metadata":{},"spec":{"containers":[{"name":"payments","image":"registry/payments:1.4.0","env":[{"name":"A","value":"1"}]},{"name":"sidecar","image":"proxy:1"}]}}
            """)!.AsObject();
        var after = JsonNode.Parse("""
            {"metadata":{},"spec":{"containers":[{"name":"sidecar","image":"proxy:1"},{"name":"payments","image":"registry/payments:1.3.0\u001b[2J","env":[{"name":"B","value":"LONG"}]}]}}
            """.Replace("LONG", new string('x', 100), StringComparison.Ordinal))!.AsObject();
        var patch = new JsonArray
        {
            new JsonObject { ["op"] = "test", ["path"] = "/metadata/resourceVersion", ["value"] = "7" },
            new JsonObject { ["op"] = "replace", ["path"] = "/spec/template", ["value"] = after },
        };
        var plan = Recorded(new Mutation { Kind = MutationKind.PatchDeployment, Namespace = "shop", Name = "payments", PatchType = "json", Patch = patch.ToJsonString(), Description = "d" },
            new JsonObject { ["template"] = before });
        var lines = PlanDiff.Of(plan).ToText().Split('\n');

        Assert.Equal(
        [
            @"Deployment shop/payments spec.template.spec.containers[payments].image: registry/payments:1.4.0 -> registry/payments:1.3.0\u001b[2J",
            $"Deployment shop/payments spec.template.spec.containers[payments].env[B]: (none) -> {{\"name\":\"B\",\"value\":\"{new string('x', 59)}…",
            "Deployment shop/payments spec.template.spec.containers[payments].env[A]: {\"name\":\"A\",\"value\":\"1\"} -> (none)",
        ], lines);
    }

    [Fact]
    public void A_merge_patch_null_removes_and_a_plan_without_changes_says_so()
    {
        var prior = new JsonObject { ["restartedAt"] = "2026-11-30T10:00:00Z" };
        Mutation Restart(string patch) => new() { Kind = MutationKind.PatchDeployment, Namespace = "shop", Name = "payments", Patch = patch, Description = "d" };
        var removed = Recorded(Restart("""{"metadata":{"resourceVersion":"9"},"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":null}}}}}"""), prior);
        Assert.Equal("Deployment shop/payments spec.template.metadata.annotations[kubectl.kubernetes.io/restartedAt]: 2026-11-30T10:00:00Z -> (none)", PlanDiff.Of(removed).ToText());

        var same = Recorded(Restart("""{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-11-30T10:00:00Z"}}}}}"""), prior);
        Assert.Empty(PlanDiff.Of(same).Changes);
        Assert.Equal("(no field changes)", PlanDiff.Of(same).ToText());
    }
}
