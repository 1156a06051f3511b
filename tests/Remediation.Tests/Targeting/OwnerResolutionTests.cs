using k8s;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;
using Remediation.Alerts;
using Remediation.ClusterSimulator;
using Remediation.Cluster;
using Remediation.Kubernetes;

namespace Remediation.Tests.Targeting;

/// <summary>
/// Owners come from the cluster: kube-state-metrics labels (namespace, pod, container only) name a pod, and the pod's
/// controller ownerReferences lead to its workload, whatever the shape of its name.
/// </summary>
public sealed class OwnerResolutionTests : IAsyncLifetime
{
    private const string Ns = "shop";
    private SimulatedCluster _cluster = null!;
    private k8s.Kubernetes _client = null!;
    private OwnerResolver _owners = null!;

    public async Task InitializeAsync()
    {
        // Simulated time that never advances: no controller reconciles the hand-made objects away.
        _cluster = await SimulatedCluster.StartAsync(new SimulatorOptions { TimeProvider = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-30T04:00:00Z", System.Globalization.CultureInfo.InvariantCulture)) });
        _client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _cluster.BaseAddress.ToString() });
        _owners = new OwnerResolver(new KubernetesClusterReader(_client, TimeProvider.System));
        await _client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Ns } });
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _cluster.DisposeAsync();
    }

    [Theory]
    [InlineData("web", "c9b7d")]          // 5-character pod-template-hash
    [InlineData("api", "7d9c6b5f4")]      // 9 characters
    [InlineData("checkout", "5d8f7c9b6a")] // 10 characters
    public async Task Deployment_pods_resolve_through_their_ReplicaSet_whatever_the_hash_length(string deployment, string hash)
    {
        var rs = await ReplicaSetOfDeploymentAsync(deployment, hash);
        await PodAsync($"{rs}-x2x9k", Owner("apps/v1", "ReplicaSet", rs, await UidAsync("ReplicaSet", rs)),
            new Dictionary<string, string> { ["app"] = deployment, ["pod-template-hash"] = hash });

        var resolved = await ResolveAsync(PodLabels($"{rs}-x2x9k"));

        Assert.Equal(new WorkloadTarget(Ns, deployment, WorkloadKinds.Deployment), resolved.Owner);
        Assert.Equal($"pod/{rs}-x2x9k → replicaset/{rs} → deployment/{deployment}", resolved.Path);
    }

    [Fact]
    public async Task StatefulSet_DaemonSet_Job_and_CronJob_pods_are_named_as_such_not_as_Deployments()
    {
        var sts = await _client.AppsV1.CreateNamespacedStatefulSetAsync(new V1StatefulSet { Metadata = Meta("dd1"), Spec = new V1StatefulSetSpec { Selector = Selector("dd1"), ServiceName = "dd1", Template = Template("dd1") } }, Ns);
        await PodAsync("dd1-0", Owner("apps/v1", "StatefulSet", "dd1", sts.Metadata.Uid));
        var ds = await _client.AppsV1.CreateNamespacedDaemonSetAsync(new V1DaemonSet { Metadata = Meta("node-agent"), Spec = new V1DaemonSetSpec { Selector = Selector("node-agent"), Template = Template("node-agent") } }, Ns);
        await PodAsync("node-agent-7xk2p", Owner("apps/v1", "DaemonSet", "node-agent", ds.Metadata.Uid));
        var cron = await _client.BatchV1.CreateNamespacedCronJobAsync(new V1CronJob { Metadata = Meta("ka"), Spec = new V1CronJobSpec { Schedule = "*/5 * * * *", JobTemplate = new V1JobTemplateSpec { Spec = new V1JobSpec { Template = Template("ka", "Never") } } } }, Ns);
        var cronJob = await _client.BatchV1.CreateNamespacedJobAsync(new V1Job { Metadata = Meta("ka-28391234", Owner("batch/v1", "CronJob", "ka", cron.Metadata.Uid)), Spec = new V1JobSpec { Template = Template("ka", "Never") } }, Ns);
        await PodAsync("ka-28391234-x2x9k", Owner("batch/v1", "Job", "ka-28391234", cronJob.Metadata.Uid));
        var job = await _client.BatchV1.CreateNamespacedJobAsync(new V1Job { Metadata = Meta("dddd"), Spec = new V1JobSpec { Template = Template("dddd", "Never") } }, Ns);
        await PodAsync("dddd-8kq2d", Owner("batch/v1", "Job", "dddd", job.Metadata.Uid));
        await PodAsync("debug-shell");
        // A Deployment named like the CronJob's prefix must not attract its pod.
        await _client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment { Metadata = Meta("ka"), Spec = new V1DeploymentSpec { Selector = Selector("ka-web"), Template = Template("ka-web") } }, Ns);

        Assert.Equal(new WorkloadTarget(Ns, "dd1", WorkloadKinds.StatefulSet), (await ResolveAsync(PodLabels("dd1-0"))).Owner);
        Assert.Equal(new WorkloadTarget(Ns, "node-agent", WorkloadKinds.DaemonSet), (await ResolveAsync(PodLabels("node-agent-7xk2p"))).Owner);
        var cronPod = await ResolveAsync(PodLabels("ka-28391234-x2x9k"));
        Assert.Equal(new WorkloadTarget(Ns, "ka", WorkloadKinds.CronJob), cronPod.Owner);
        Assert.Equal("pod/ka-28391234-x2x9k → job/ka-28391234 → cronjob/ka", cronPod.Path);
        Assert.Equal(new WorkloadTarget(Ns, "dddd", WorkloadKinds.Job), (await ResolveAsync(PodLabels("dddd-8kq2d"))).Owner);
        Assert.Equal(new WorkloadTarget(Ns, "debug-shell", WorkloadKinds.Pod), (await ResolveAsync(PodLabels("debug-shell"))).Owner);
        // The explicit labels of kube-state-metrics' workload alerts name the same owners without a pod.
        Assert.Equal(new WorkloadTarget(Ns, "dd1", WorkloadKinds.StatefulSet), (await ResolveAsync(new() { ["namespace"] = Ns, ["statefulset"] = "dd1" })).Owner);
        Assert.Equal(new WorkloadTarget(Ns, "dddd", WorkloadKinds.Job), (await ResolveAsync(new() { ["namespace"] = Ns, ["job_name"] = "dddd" })).Owner);
        Assert.Equal(new WorkloadTarget(Ns, "ka", WorkloadKinds.CronJob), (await ResolveAsync(new() { ["namespace"] = Ns, ["job_name"] = "ka-28391234" })).Owner);
    }

    [Fact]
    public async Task A_deleted_pod_resolves_through_its_ReplicaSet_or_escalates_saying_why()
    {
        var rs = await ReplicaSetOfDeploymentAsync("cart", "6b8f9d4c7");

        var gone = await ResolveAsync(PodLabels($"{rs}-q8w2z"));
        Assert.Equal(new WorkloadTarget(Ns, "cart", WorkloadKinds.Deployment), gone.Owner);
        Assert.Equal($"pod/{rs}-q8w2z (deleted) → replicaset/{rs} → deployment/cart", gone.Path);

        var unknown = await ResolveAsync(PodLabels("payments-5f7d8c9b6a-k2l4m"));
        Assert.Null(unknown.Owner);
        Assert.Contains("no longer exists and no ReplicaSet of shop matches its name and pod-template-hash", unknown.Problem, StringComparison.Ordinal);
        // A ReplicaSet whose hash does not match the pod's name is not taken either.
        var wrongHash = await ResolveAsync(PodLabels($"{rs}x-q8w2z"));
        Assert.Null(wrongHash.Owner);
    }

    [Fact]
    public async Task An_HPA_alert_leads_to_the_workload_it_scales()
    {
        await _client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment { Metadata = Meta("search"), Spec = new V1DeploymentSpec { Selector = Selector("search"), Template = Template("search") } }, Ns);
        await _client.AutoscalingV2.CreateNamespacedHorizontalPodAutoscalerAsync(new V2HorizontalPodAutoscaler
        {
            Metadata = Meta("search-hpa"),
            Spec = new V2HorizontalPodAutoscalerSpec { MaxReplicas = 5, ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "search" } },
        }, Ns);

        var resolved = await ResolveAsync(new() { ["namespace"] = Ns, ["horizontalpodautoscaler"] = "search-hpa" });

        Assert.Equal(new WorkloadTarget(Ns, "search", WorkloadKinds.Deployment), resolved.Owner);
    }

    private async Task<OwnerResolution> ResolveAsync(Dictionary<string, string> labels)
    {
        labels.TryAdd("alertname", "KubePodCrashLooping");
        var (target, problem) = TargetResolver.Resolve(labels);
        Assert.True(target is not null, problem);
        return await _owners.ResolveAsync(target!);
    }

    /// <summary>kube-state-metrics' pod alerts as scraped with honor_labels: namespace, pod, container (and the exporter's job).</summary>
    private static Dictionary<string, string> PodLabels(string pod) => new()
    {
        ["namespace"] = Ns, ["pod"] = pod, ["container"] = "app", ["job"] = "kube-state-metrics",
    };

    private async Task<string> ReplicaSetOfDeploymentAsync(string deployment, string hash)
    {
        var d = await _client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment { Metadata = Meta(deployment), Spec = new V1DeploymentSpec { Selector = Selector(deployment), Template = Template(deployment) } }, Ns);
        var name = $"{deployment}-{hash}";
        var meta = Meta(name, Owner("apps/v1", "Deployment", deployment, d.Metadata.Uid));
        meta.Labels = new Dictionary<string, string> { ["app"] = deployment, ["pod-template-hash"] = hash };
        await _client.AppsV1.CreateNamespacedReplicaSetAsync(new V1ReplicaSet { Metadata = meta, Spec = new V1ReplicaSetSpec { Replicas = 1, Selector = Selector(deployment), Template = Template(deployment) } }, Ns);
        return name;
    }

    private async Task<string> UidAsync(string kind, string name) =>
        kind == "ReplicaSet" ? (await _client.AppsV1.ReadNamespacedReplicaSetAsync(name, Ns)).Metadata.Uid : throw new ArgumentOutOfRangeException(nameof(kind));

    private Task<V1Pod> PodAsync(string name, V1OwnerReference? owner = null, Dictionary<string, string>? labels = null)
    {
        var meta = Meta(name, owner);
        meta.Labels = labels;
        return _client.CoreV1.CreateNamespacedPodAsync(new V1Pod { Metadata = meta, Spec = Template(name).Spec }, Ns);
    }

    private static V1ObjectMeta Meta(string name, V1OwnerReference? owner = null) =>
        new() { Name = name, NamespaceProperty = Ns, OwnerReferences = owner is null ? null : [owner] };

    private static V1OwnerReference Owner(string apiVersion, string kind, string name, string uid) =>
        new() { ApiVersion = apiVersion, Kind = kind, Name = name, Uid = uid, Controller = true, BlockOwnerDeletion = true };

    private static V1LabelSelector Selector(string app) => new() { MatchLabels = new Dictionary<string, string> { ["app"] = app } };

    private static V1PodTemplateSpec Template(string app, string? restartPolicy = null) => new()
    {
        Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = app } },
        Spec = new V1PodSpec { RestartPolicy = restartPolicy, Containers = [new V1Container { Name = "app", Image = $"registry.example/{app}:1" }] },
    };
}
