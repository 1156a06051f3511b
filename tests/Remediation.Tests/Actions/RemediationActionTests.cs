using System.Diagnostics;
using System.Text.Json.Nodes;
using Remediation.ClusterSimulator;
using Remediation.Diagnosis;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Actions;

/// <summary>Actions under policy, on simulator scenarios, through KubernetesClient and real Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RemediationActionTests(AzuriteFixture storage)
{
    private static readonly string Policy = File.ReadAllText(Path.Combine(RepoPaths.Root, "examples", "policy.yaml"));

    [Fact]
    public async Task Bad_rollout_is_rolled_back_to_the_same_template_kubectl_undo_produces()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", Policy);
        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "checkout"));
        Assert.Equal(IncidentState.Verifying, incident.State);
        Assert.Equal("rollback", incident.Action);
        Assert.Equal(nameof(FailureClass.BadRollout), incident.DiagnosisClass);
        var mutating = harness.Cluster.Requests.Where(r => r.IsMutating).ToList();
        Assert.Single(mutating);
        Assert.Contains("registry.example/checkout:1.5.0", incident.PriorStateJson, StringComparison.Ordinal);

        // The same start state, rolled back by the real kubectl.
        await using var reference = await SimulatedCluster.StartAsync(new SimulatorOptions { TimeProvider = harness.Time });
        reference.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await reference.ReconcileAsync();
        var kubeconfig = reference.WriteKubeconfig(Path.Combine(Path.GetTempPath(), $"kc-{Guid.NewGuid():N}.yaml"));
        await Kubectl.RunAsync(kubeconfig, "rollout", "undo", "deployment/checkout", "-n", "shop");

        var ours = harness.Cluster.GetObject("deployments", "shop", "checkout")!;
        var theirs = reference.GetObject("deployments", "shop", "checkout")!;
        Assert.True(JsonNode.DeepEquals(theirs["spec"]!["template"], ours["spec"]!["template"]),
            $"template differs from kubectl's undo:\nkubectl: {theirs["spec"]!["template"]!.ToJsonString()}\nours:    {ours["spec"]!["template"]!.ToJsonString()}");
        Assert.True(JsonNode.DeepEquals(theirs["metadata"]!["annotations"], ours["metadata"]!["annotations"]));
        Assert.Equal("registry.example/checkout:1.4.2", ours["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>());

        await harness.AdvanceAsync(TimeSpan.FromSeconds(10));
        await harness.SweepAsync();
        Assert.Equal(IncidentState.Verifying, (await harness.Store.GetAsync(incident.IncidentId))!.State);
        await harness.AdvanceAsync(TimeSpan.FromMinutes(1));
        await harness.SweepAsync();
        var verified = (await harness.Store.GetAsync(incident.IncidentId))!;
        Assert.Equal(IncidentState.Succeeded, verified.State);
        Assert.Contains("rollout complete: 3 updated, 3 ready, 3 available of 3", verified.OutcomeReason, StringComparison.Ordinal);
    }

    /// <summary>
    /// kubectl's annotation rule for an undo: the Deployment keeps the annotations it owns (last-applied-configuration,
    /// revision bookkeeping) and takes every other annotation from the ReplicaSet it rolls back to. Here both kinds are
    /// carried by the Deployment only (added after revision 1's ReplicaSet was made, so that ReplicaSet never had them).
    /// </summary>
    [Fact]
    public async Task Rollback_keeps_a_deployment_only_owned_annotation_and_drops_a_deployment_only_plain_one_as_kubectl_undo_does()
    {
        const string lastApplied = "kubectl.kubernetes.io/last-applied-configuration";
        string[] annotate = ["annotate", "deployment/checkout", "-n", "shop", "team=payments", lastApplied + "={\"kind\":\"Deployment\"}"];
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", Policy);
        var kubeconfig = harness.Cluster.WriteKubeconfig(Path.Combine(Path.GetTempPath(), $"kc-{Guid.NewGuid():N}.yaml"));
        await Kubectl.RunAsync(kubeconfig, annotate);
        var revision1 = harness.Cluster.ListObjects("replicasets", "shop").Single(rs =>
            rs["metadata"]!["labels"]!["app"]!.GetValue<string>() == "checkout" && rs["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]!.GetValue<string>() == "1");
        Assert.Null(revision1["metadata"]!["annotations"]!["team"]);
        Assert.Null(revision1["metadata"]!["annotations"]![lastApplied]);

        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "checkout"));
        Assert.Equal("rollback", incident.Action);
        Assert.Equal(IncidentState.Verifying, incident.State);

        await using var reference = await SimulatedCluster.StartAsync(new SimulatorOptions { TimeProvider = harness.Time });
        reference.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await reference.ReconcileAsync();
        var referenceConfig = reference.WriteKubeconfig(Path.Combine(Path.GetTempPath(), $"kc-{Guid.NewGuid():N}.yaml"));
        await Kubectl.RunAsync(referenceConfig, annotate);
        await Kubectl.RunAsync(referenceConfig, "rollout", "undo", "deployment/checkout", "-n", "shop");

        var ours = harness.Cluster.GetObject("deployments", "shop", "checkout")!["metadata"]!["annotations"]!;
        var theirs = reference.GetObject("deployments", "shop", "checkout")!["metadata"]!["annotations"]!;
        Assert.Equal("{\"kind\":\"Deployment\"}", ours[lastApplied]?.GetValue<string>());
        Assert.Null(ours["team"]);
        Assert.Equal("3", ours["deployment.kubernetes.io/revision"]?.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(theirs, ours), $"annotations differ from kubectl's undo:\nkubectl: {theirs.ToJsonString()}\nours:    {ours.ToJsonString()}");
        File.Delete(kubeconfig);
        File.Delete(referenceConfig);
    }

    [Fact]
    public async Task Degraded_v2_moves_virtualservice_and_httproute_weight_to_v1_and_keeps_the_original()
    {
        var diagnoser = FixedDiagnoser.Of(FailureClass.DegradedVersion, d => d with { DegradedVersion = "v2", HealthyVersions = ["v1"] });
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "v2-degraded.yaml", Policy, diagnoser);
        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "reviews-v2", "IstioHigh5xxErrorRate"));
        Assert.Equal(IncidentState.Verifying, incident.State);
        Assert.Equal("traffic-shift", incident.Action);

        var vs = harness.Cluster.GetObject("virtualservices", "shop", "reviews")!;
        var weights = vs["spec"]!["http"]![0]!["route"]!.AsArray().ToDictionary(r => r!["destination"]!["subset"]!.GetValue<string>(), r => r!["weight"]!.GetValue<int>());
        Assert.Equal(100, weights["v1"]);
        Assert.Equal(0, weights["v2"]);
        Assert.Contains("\"weight\":50", vs["metadata"]!["annotations"]!["remediation.io/original-routes"]!.GetValue<string>(), StringComparison.Ordinal);
        var route = harness.Cluster.GetObject("httproutes", "shop", "reviews-route")!;
        var backends = route["spec"]!["rules"]![0]!["backendRefs"]!.AsArray().ToDictionary(b => b!["name"]!.GetValue<string>(), b => b!["weight"]!.GetValue<int>());
        Assert.Equal(100, backends["reviews-v1"]);
        Assert.Equal(0, backends["reviews-v2"]);
        Assert.InRange(harness.Cluster.Requests.Count(r => r.IsMutating), 1, 3);
    }

    [Fact]
    public async Task Traffic_shift_never_moves_weight_toward_an_unhealthy_subset()
    {
        var diagnoser = FixedDiagnoser.Of(FailureClass.DegradedVersion, d => d with { DegradedVersion = "v2", HealthyVersions = [] });
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "v2-degraded.yaml", Policy, diagnoser);
        var before = harness.Cluster.Snapshot();
        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "reviews-v2", "IstioHigh5xxErrorRate"));
        Assert.Equal(IncidentState.Escalated, incident.State);
        Assert.Contains("unhealthy subset", incident.OutcomeReason, StringComparison.Ordinal);
        Assert.Equal(before, harness.Cluster.Snapshot());
    }

    [Fact]
    public async Task Saturation_raises_hpa_max_within_the_cap_and_not_past_it()
    {
        var policy = Policy.Replace("maxReplicas: 20", "maxReplicas: 5", StringComparison.Ordinal).Replace("cooldown: 10m", "cooldown: 1s", StringComparison.Ordinal);
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "saturation.yaml", policy, FixedDiagnoser.Of(FailureClass.Saturation));
        var first = await harness.FireAsync(PipelineHarness.Alert("shop", "api", "KubeHpaMaxedOut"));
        Assert.Equal("scale-out", first.Action);
        Assert.Equal(5, harness.Cluster.GetObject("horizontalpodautoscalers", "shop", "api")!["spec"]!["maxReplicas"]!.GetValue<int>());

        harness.Time.Advance(TimeSpan.FromSeconds(5));
        var second = await harness.FireAsync(PipelineHarness.Alert("shop", "api", "KubeHpaMaxedOut", PipelineHarness.Start.AddMinutes(1)));
        Assert.Equal(IncidentState.Escalated, second.State);
        Assert.Contains("policy cap is 5", second.OutcomeReason, StringComparison.Ordinal);
        Assert.Equal(5, harness.Cluster.GetObject("horizontalpodautoscalers", "shop", "api")!["spec"]!["maxReplicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task Oom_is_escalated_without_any_restart()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "oom.yaml", Policy);
        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "cart"));
        Assert.Equal(nameof(FailureClass.OutOfMemory), incident.DiagnosisClass);
        Assert.Equal(IncidentState.Escalated, incident.State);
        Assert.DoesNotContain(harness.Cluster.Requests, r => r.IsMutating);
    }

    [Fact]
    public async Task Non_allowlisted_namespace_is_refused_recorded_and_not_even_read()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", Policy);
        harness.Cluster.ClearRequests();
        var incident = await harness.FireAsync(PipelineHarness.Alert("kube-system", "coredns"));
        Assert.Equal(IncidentState.Refused, incident.State);
        Assert.Contains("protected", incident.OutcomeReason, StringComparison.Ordinal);
        var other = await harness.FireAsync(PipelineHarness.Alert("payments", "ledger"));
        Assert.Equal(IncidentState.Refused, other.State);
        Assert.Contains("not in the policy allowlist", other.OutcomeReason, StringComparison.Ordinal);
        Assert.Empty(harness.Cluster.Requests);
    }

    [Fact]
    public async Task Flapping_alert_20_times_is_bounded_by_cooldown_and_window()
    {
        var policy = Policy.Replace("cooldown: 10m", "cooldown: 1m", StringComparison.Ordinal);
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "crashloop-no-change.yaml", policy, FixedDiagnoser.Of(FailureClass.CrashLoop));
        var states = new List<IncidentState>();
        for (var i = 0; i < 20; i++)
        {
            var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "worker", startsAt: PipelineHarness.Start.AddSeconds(20 * i)));
            states.Add(incident.State);
            harness.Time.Advance(TimeSpan.FromSeconds(20));
        }
        var actions = harness.Cluster.Requests.Count(r => r.IsMutating);
        // 400 s of flapping with a 1 min cooldown allows at most 7 by cooldown; the window allows 3.
        Assert.Equal(3, actions);
        Assert.Equal(3, states.Count(s => s is IncidentState.Verifying));
        Assert.Equal(17, states.Count(s => s is IncidentState.Refused));
    }

    [Fact]
    public async Task Circuit_breaker_opens_after_two_failed_remediations_and_escalates()
    {
        var policy = Policy.Replace("cooldown: 10m", "cooldown: 1s", StringComparison.Ordinal).Replace("maxActionsPerWindow: 3", "maxActionsPerWindow: 10", StringComparison.Ordinal);
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "crashloop-no-change.yaml", policy, FixedDiagnoser.Of(FailureClass.CrashLoop));
        harness.Cluster.Faults.Add(new FaultRule { Verb = "patch", Resource = "deployments", StatusCode = 422 });
        var outcomes = new List<IncidentRecord>();
        for (var i = 0; i < 4; i++)
        {
            outcomes.Add(await harness.FireAsync(PipelineHarness.Alert("shop", "worker", startsAt: PipelineHarness.Start.AddMinutes(i))));
            harness.Time.Advance(TimeSpan.FromSeconds(5));
        }
        Assert.Equal(IncidentState.Failed, outcomes[0].State);
        Assert.Equal(IncidentState.Failed, outcomes[1].State);
        Assert.Equal(IncidentState.Escalated, outcomes[2].State);
        Assert.Contains("circuit breaker open", outcomes[2].OutcomeReason, StringComparison.Ordinal);
        Assert.Equal(IncidentState.Escalated, outcomes[3].State);
        Assert.Equal(2, harness.Cluster.Requests.Count(r => r.Verb == "patch"));
    }

    [Fact]
    public async Task Dry_run_leaves_the_cluster_byte_identical_and_its_plan_equals_the_live_plan()
    {
        var dryPolicy = Policy.Replace("dryRun: false", "dryRun: true", StringComparison.Ordinal);
        await using var dry = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", dryPolicy);
        var before = dry.Cluster.Snapshot();
        var dryIncident = await dry.FireAsync(PipelineHarness.Alert("shop", "checkout"));
        Assert.Equal(IncidentState.DryRun, dryIncident.State);
        Assert.Equal(before, dry.Cluster.Snapshot());
        var dryRunCalls = dry.Cluster.Requests.Where(r => r.DryRun).ToList();
        Assert.Single(dryRunCalls);
        Assert.Contains("dryRun=All", dryRunCalls[0].Query, StringComparison.Ordinal);

        await using var live = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", Policy);
        var liveIncident = await live.FireAsync(PipelineHarness.Alert("shop", "checkout"));
        Assert.Equal(IncidentState.Verifying, liveIncident.State);
        Assert.Equal(liveIncident.PlanJson, dryIncident.PlanJson);
        Assert.Equal(dryRunCalls[0].Body, live.Cluster.Requests.Single(r => r.IsMutating).Body);
    }

    [Fact]
    public async Task Verification_fails_at_the_deadline_and_reverts_the_traffic_shift()
    {
        var diagnoser = FixedDiagnoser.Of(FailureClass.DegradedVersion, d => d with { DegradedVersion = "v2", HealthyVersions = ["v1"] });
        var health = new SettableHealthSignal(0.40);
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "v2-degraded.yaml", Policy, diagnoser, health);
        var original = harness.Cluster.GetObject("virtualservices", "shop", "reviews")!["spec"]!["http"]!.ToJsonString();
        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "reviews-v2", "IstioHigh5xxErrorRate"));
        Assert.Equal(IncidentState.Verifying, incident.State);

        harness.Time.Advance(TimeSpan.FromMinutes(1));
        await harness.SweepAsync();
        Assert.Equal(IncidentState.Verifying, (await harness.Store.GetAsync(incident.IncidentId))!.State);

        harness.Time.Advance(TimeSpan.FromMinutes(5));
        await harness.SweepAsync();
        var failed = (await harness.Store.GetAsync(incident.IncidentId))!;
        Assert.Equal(IncidentState.Failed, failed.State);
        Assert.Contains("reverted to the recorded prior state", failed.OutcomeReason, StringComparison.Ordinal);
        var vs = harness.Cluster.GetObject("virtualservices", "shop", "reviews")!;
        Assert.Equal(original, vs["spec"]!["http"]!.ToJsonString());
        Assert.Null(vs["metadata"]!["annotations"]?["remediation.io/original-routes"]);
    }

    [Fact]
    public async Task Verification_succeeds_only_after_the_soak_period_when_the_restart_holds()
    {
        var health = new SettableHealthSignal(0.001);
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "crashloop-no-change.yaml", Policy, FixedDiagnoser.Of(FailureClass.CrashLoop), health);
        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "worker"));
        Assert.Equal("restart", incident.Action);
        await harness.AdvanceAsync(TimeSpan.FromSeconds(30));
        await harness.SweepAsync();
        Assert.Equal(IncidentState.Verifying, (await harness.Store.GetAsync(incident.IncidentId))!.State);
        await harness.AdvanceAsync(TimeSpan.FromSeconds(40));
        await harness.SweepAsync();
        Assert.Equal(IncidentState.Succeeded, (await harness.Store.GetAsync(incident.IncidentId))!.State);
    }

    [Fact]
    public async Task Verification_fails_at_the_deadline_when_the_rollout_never_completes()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "image-pull.yaml", Policy, FixedDiagnoser.Of(FailureClass.CrashLoop));
        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "payments"));
        Assert.Equal("restart", incident.Action);
        for (var i = 0; i < 12; i++)
        {
            await harness.AdvanceAsync(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10));
            await harness.SweepAsync();
            var state = (await harness.Store.GetAsync(incident.IncidentId))!.State;
            Assert.Equal(i < 9 ? IncidentState.Verifying : IncidentState.Failed, state);
        }
        var done = (await harness.Store.GetAsync(incident.IncidentId))!;
        Assert.Contains("not healthy by the deadline: rollout incomplete", done.OutcomeReason, StringComparison.Ordinal);
    }
}

/// <summary>Runs the real kubectl.</summary>
public static class Kubectl
{
    public static async Task<string> RunAsync(string kubeconfig, params string[] args)
    {
        var start = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--kubeconfig");
        start.ArgumentList.Add(kubeconfig);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("kubectl not found on PATH (scripts/install-deps.sh installs it)");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"kubectl {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr}");
        }
        return await stdout;
    }
}

/// <summary>The global concurrency cap: with N remediations in flight, the next is escalated, not acted on.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ConcurrencyCapTests(AzuriteFixture storage)
{
    [Fact]
    public async Task With_the_cap_reached_a_new_remediation_is_escalated_without_touching_the_cluster()
    {
        var policy = File.ReadAllText(Path.Combine(RepoPaths.Root, "examples", "policy.yaml")).Replace("maxConcurrent: 10", "maxConcurrent: 1", StringComparison.Ordinal);
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", policy, FixedDiagnoser.Of(FailureClass.CrashLoop));
        var first = await harness.FireAsync(PipelineHarness.Alert("shop", "checkout"));
        Assert.Equal(IncidentState.Verifying, first.State);
        var second = await harness.FireAsync(PipelineHarness.Alert("shop", "frontend"));
        Assert.Equal(IncidentState.Escalated, second.State);
        Assert.Contains("global concurrency cap: 1 remediations already in flight (max 1)", second.OutcomeReason, StringComparison.Ordinal);
        Assert.Single(harness.Cluster.Requests, r => r.IsMutating);
        Assert.Equal(1, await harness.InFlight.CountInFlightAsync("none", harness.Time.GetUtcNow()));

        // Once the first remediation concludes (verified or failed at its deadline), the slot is free again.
        await harness.AdvanceAsync(TimeSpan.FromMinutes(6), TimeSpan.FromSeconds(30));
        await harness.SweepAsync();
        Assert.True(IncidentLifecycle.IsTerminal((await harness.Store.GetAsync(first.IncidentId))!.State));
        Assert.Equal(0, await harness.InFlight.CountInFlightAsync("none", harness.Time.GetUtcNow()));
        var third = await harness.FireAsync(PipelineHarness.Alert("shop", "frontend", startsAt: PipelineHarness.Start.AddHours(1)));
        Assert.Equal(IncidentState.Verifying, third.State);
    }
}

/// <summary>Restart takes the smaller step: with one wedged pod among ready ones, that pod is deleted instead.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class SmallestStepTests(AzuriteFixture storage)
{
    [Fact]
    public async Task One_stuck_pod_among_ready_ones_is_deleted_instead_of_restarting_the_rollout()
    {
        var policy = File.ReadAllText(Path.Combine(RepoPaths.Root, "examples", "policy.yaml"));
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "healthy.yaml", policy);
        var pods = harness.Cluster.ListObjects("pods", "shop").Where(p => p["metadata"]!["name"]!.GetValue<string>().StartsWith("checkout-", StringComparison.Ordinal)).ToList();
        Assert.True(pods.Count >= 2);
        var wedged = pods[0]["metadata"]!["name"]!.GetValue<string>();
        using (var client = new k8s.Kubernetes(new k8s.KubernetesClientConfiguration { Host = harness.Cluster.BaseAddress.ToString() }))
        {
            const string patch = """{"metadata":{"annotations":{"simulator.remediation.io/mode":"crashloop"}}}""";
            await k8s.CoreV1OperationsExtensions.PatchNamespacedPodAsync(client.CoreV1, new k8s.Models.V1Patch(patch, k8s.Models.V1Patch.PatchType.MergePatch), wedged, "shop");
        }
        await harness.AdvanceAsync(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10));
        harness.Cluster.ClearRequests();

        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "checkout"));
        Assert.Equal(nameof(FailureClass.CrashLoop), incident.DiagnosisClass);
        Assert.Equal("delete-pod", incident.Action);
        var delete = Assert.Single(harness.Cluster.Requests, r => r.IsMutating);
        Assert.Equal("delete", delete.Verb);
        Assert.Equal(wedged, delete.Name);
        Assert.Null(harness.Cluster.GetObject("deployments", "shop", "checkout")!["spec"]!["template"]!["metadata"]!["annotations"]?["kubectl.kubernetes.io/restartedAt"]);

        await harness.AdvanceAsync(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10));
        await harness.SweepAsync();
        Assert.Equal(IncidentState.Succeeded, (await harness.Store.GetAsync(incident.IncidentId))!.State);
        Assert.Null(harness.Cluster.GetObject("pods", "shop", wedged));
    }
}
