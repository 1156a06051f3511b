using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Remediation.ClusterSimulator.Tests;

/// <summary>A custom resource as raw JSON for GenericClient.</summary>
public sealed class RawResource : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = "";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "";

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public JsonElement Spec { get; set; }
}

public sealed class RawResourceList : IKubernetesObject<V1ListMeta>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = "";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "";

    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public List<RawResource> Items { get; set; } = [];
}

/// <summary>The C# KubernetesClient against the simulator.</summary>
public sealed class ClientTests
{
    private static Kubernetes Client(Harness h) => new(KubernetesClientConfiguration.BuildConfigFromConfigFile(h.Kubeconfig));

    [Fact]
    public async Task RollbackViaClientMatchesKubectlUndo()
    {
        await using var viaKubectl = await Harness.StartAsync("bad-rollout.yaml", fakeTime: true);
        await using var viaClient = await Harness.StartAsync("bad-rollout.yaml", fakeTime: true);
        Assert.Equal(viaKubectl.Cluster.Snapshot(), viaClient.Cluster.Snapshot());

        (await viaKubectl.KubectlAsync("-n", "shop", "rollout", "undo", "deploy/checkout")).EnsureSuccess();

        using var client = Client(viaClient);
        var deploy = await client.AppsV1.ReadNamespacedDeploymentAsync("checkout", "shop");
        var rsList = await client.AppsV1.ListNamespacedReplicaSetAsync("shop", labelSelector: "app=checkout");
        var previous = rsList.Items
            .Where(r => r.Metadata.OwnerReferences.Any(o => o.Uid == deploy.Metadata.Uid))
            .Single(r => r.Metadata.Annotations["deployment.kubernetes.io/revision"] == "1");
        var template = previous.Spec.Template;
        template.Metadata.Labels.Remove("pod-template-hash");
        var annotations = new Dictionary<string, string>(deploy.Metadata.Annotations);
        foreach (var (k, v) in previous.Metadata.Annotations.Where(a => !a.Key.StartsWith("deployment.kubernetes.io/", StringComparison.Ordinal)))
        {
            annotations[k] = v;
        }

        var patch = new[]
        {
            new { op = "replace", path = "/spec/template", value = (object)template },
            new { op = "replace", path = "/metadata/annotations", value = (object)annotations },
        };
        await client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(KubernetesJson.Serialize(patch), V1Patch.PatchType.JsonPatch), "checkout", "shop");

        var a = viaKubectl.Cluster.GetObject("deployments", "shop", "checkout")!;
        var b = viaClient.Cluster.GetObject("deployments", "shop", "checkout")!;
        Assert.Equal(JsonExt.Canonical(a.At("spec")), JsonExt.Canonical(b.At("spec")));
        Assert.Equal(JsonExt.Canonical(a.At("metadata", "annotations")), JsonExt.Canonical(b.At("metadata", "annotations")));
        var rsA = viaKubectl.Cluster.ListObjects("replicasets", "shop").Select(r => JsonExt.Canonical(r.At("metadata", "annotations")) + JsonExt.Canonical(r.At("spec"))).ToList();
        var rsB = viaClient.Cluster.ListObjects("replicasets", "shop").Select(r => JsonExt.Canonical(r.At("metadata", "annotations")) + JsonExt.Canonical(r.At("spec"))).ToList();
        Assert.Equal(rsA, rsB);
    }

    [Fact]
    public async Task GenericClientReadsAndPatchesCustomResources()
    {
        await using var h = await Harness.StartAsync("v2-degraded.yaml", fakeTime: true);
        using var client = Client(h);
        using var vsClient = new GenericClient(client, "networking.istio.io", "v1", "virtualservices", disposeClient: false);
        var vs = await vsClient.ReadNamespacedAsync<RawResource>("shop", "reviews");
        Assert.Equal("VirtualService", vs.Kind);
        Assert.Equal(50, vs.Spec.GetProperty("http")[0].GetProperty("route")[1].GetProperty("weight").GetInt32());

        var merge = """{"spec":{"http":[{"route":[{"destination":{"host":"reviews","subset":"v1"},"weight":100},{"destination":{"host":"reviews","subset":"v2"},"weight":0}]}]}}""";
        var patched = await vsClient.PatchNamespacedAsync<RawResource>(new V1Patch(merge, V1Patch.PatchType.MergePatch), "shop", "reviews");
        Assert.Equal(100, patched.Spec.GetProperty("http")[0].GetProperty("route")[0].GetProperty("weight").GetInt32());

        using var routes = new GenericClient(client, "gateway.networking.k8s.io", "v1", "httproutes", disposeClient: false);
        var list = await routes.ListNamespacedAsync<RawResourceList>("shop");
        var route = Assert.Single(list.Items);
        Assert.Equal("reviews-route", route.Metadata.Name);
        Assert.Equal(2, route.Spec.GetProperty("rules")[0].GetProperty("backendRefs").GetArrayLength());

        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("{}", V1Patch.PatchType.StrategicMergePatch), "nope", "shop"));
        Assert.Equal(HttpStatusCode.NotFound, ex.Response.StatusCode);
        Assert.Contains("deployments.apps \\\"nope\\\" not found", ex.Response.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplaceWithStaleResourceVersionConflicts()
    {
        await using var h = await Harness.StartAsync("healthy.yaml", fakeTime: true);
        using var client = Client(h);
        var d = await client.AppsV1.ReadNamespacedDeploymentAsync("checkout", "shop");
        await client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("""{"metadata":{"labels":{"team":"a"}}}""", V1Patch.PatchType.MergePatch), "checkout", "shop");
        d.Spec.Replicas = 4;
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => client.AppsV1.ReplaceNamespacedDeploymentAsync(d, "checkout", "shop"));
        Assert.Equal(HttpStatusCode.Conflict, ex.Response.StatusCode);
        Assert.Contains("the object has been modified", ex.Response.Content, StringComparison.Ordinal);

        var fresh = await client.AppsV1.ReadNamespacedDeploymentAsync("checkout", "shop");
        fresh.Spec.Replicas = 4;
        var replaced = await client.AppsV1.ReplaceNamespacedDeploymentAsync(fresh, "checkout", "shop");
        Assert.Equal(4, replaced.Spec.Replicas);
        Assert.Equal(2, replaced.Metadata.Generation);

        var scale = await client.AppsV1.ReadNamespacedDeploymentScaleAsync("checkout", "shop");
        Assert.Equal(4, scale.Spec.Replicas);
    }

    [Fact]
    public async Task WatchSeesModificationsAndResumesFromResourceVersion()
    {
        await using var h = await Harness.StartAsync("healthy.yaml", fakeTime: true);
        using var client = Client(h);
        var list = await client.AppsV1.ListNamespacedDeploymentAsync("shop");
        var rv = list.Metadata.ResourceVersion;
        await client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("""{"spec":{"replicas":4}}""", V1Patch.PatchType.MergePatch), "checkout", "shop");

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<(WatchEventType, int?)>();
        await foreach (var (type, item) in client.AppsV1.WatchListNamespacedDeploymentAsync("shop", resourceVersion: rv, fieldSelector: "metadata.name=checkout", cancellationToken: cts.Token))
        {
            seen.Add((type, item.Spec.Replicas));
            if (item.Spec.Replicas == 4)
            {
                break;
            }
        }

        Assert.Contains((WatchEventType.Modified, 4), seen);
        Assert.All(seen, s => Assert.Equal(WatchEventType.Modified, s.Item1));
    }

    [Fact]
    public async Task InjectedFaultsReachTheClient()
    {
        await using var h = await Harness.StartAsync("healthy.yaml", fakeTime: true);
        using var client = Client(h);
        h.Cluster.Faults.Add(new FaultRule { Verb = "patch", Resource = "deployments", Probability = 1, StatusCode = 503 });
        var patch = new V1Patch("""{"spec":{"replicas":2}}""", V1Patch.PatchType.MergePatch);
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => client.AppsV1.PatchNamespacedDeploymentAsync(patch, "checkout", "shop"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ex.Response.StatusCode);
        Assert.Equal("3", h.Cluster.GetObject("deployments", "shop", "checkout")!.Str("spec", "replicas"));
        var recorded = h.Cluster.Requests.Last(r => r.Verb == "patch");
        Assert.Equal(503, recorded.StatusCode);
        Assert.False(recorded.DryRun);
        Assert.True(recorded.IsMutating);

        // Reads are unaffected by a patch rule.
        await client.AppsV1.ReadNamespacedDeploymentAsync("checkout", "shop");

        h.Cluster.Faults.Clear();
        h.Cluster.Faults.Add(new FaultRule { Verb = "get", Resource = "deployments", StatusCode = 429, RetryAfterSeconds = 7 });
        using var http = new HttpClient { BaseAddress = h.Cluster.BaseAddress };
        var raw = await http.GetAsync(new Uri("apis/apps/v1/namespaces/shop/deployments/checkout", UriKind.Relative));
        Assert.Equal(HttpStatusCode.TooManyRequests, raw.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), raw.Headers.RetryAfter?.Delta);
        var body = JsonNode.Parse(await raw.Content.ReadAsStringAsync())!;
        Assert.Equal("TooManyRequests", body.Str("reason"));
        var ex429 = await Assert.ThrowsAsync<HttpOperationException>(() => client.AppsV1.ReadNamespacedDeploymentAsync("checkout", "shop"));
        Assert.Equal(HttpStatusCode.TooManyRequests, ex429.Response.StatusCode);

        h.Cluster.Faults.Clear();
        h.Cluster.Faults.Add(new FaultRule { Verb = "patch", StatusCode = null, DropConnection = true, MaxCount = 1 });
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.AppsV1.PatchNamespacedDeploymentAsync(patch, "checkout", "shop"));
        var ok = await client.AppsV1.PatchNamespacedDeploymentAsync(patch, "checkout", "shop");
        Assert.Equal(2, ok.Spec.Replicas);
    }
}
