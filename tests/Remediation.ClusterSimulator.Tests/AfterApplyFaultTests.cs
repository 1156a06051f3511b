using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Remediation.ClusterSimulator.Tests;

/// <summary>
/// FaultRule.AfterApply: the request is committed, only its reply is lost or replaced — what a resumed worker meets
/// when its first attempt took effect. Also what the retry then gets, matching real Kubernetes: a failed JSON-patch
/// test op is 422 Invalid (the apiserver wraps jsonpatch errors as StatusUnprocessableEntity), a stale
/// metadata.resourceVersion in a merge patch is 409 Conflict (the update's precondition).
/// </summary>
public sealed class AfterApplyFaultTests
{
    private static Kubernetes Client(Harness h) => new(KubernetesClientConfiguration.BuildConfigFromConfigFile(h.Kubeconfig));

    private static string ScaleJsonPatch(string resourceVersion, int replicas) => new JsonArray
    {
        new JsonObject { ["op"] = "test", ["path"] = "/metadata/resourceVersion", ["value"] = resourceVersion },
        new JsonObject { ["op"] = "replace", ["path"] = "/spec/replicas", ["value"] = replicas },
    }.ToJsonString();

    [Fact]
    public async Task Dropped_reply_after_apply_commits_the_patch_and_the_identical_retry_fails_its_resourceVersion_test_with_422()
    {
        await using var h = await Harness.StartAsync("healthy.yaml", fakeTime: true);
        using var client = Client(h);
        var before = await client.AppsV1.ReadNamespacedDeploymentAsync("checkout", "shop");
        var rv0 = before.Metadata.ResourceVersion;
        Assert.Equal(3, before.Spec.Replicas);

        h.Cluster.Faults.Add(new FaultRule { Verb = "patch", Resource = "deployments", Name = "checkout", AfterApply = true, DropConnection = true, StatusCode = null, MaxCount = 1 });
        var patch = new V1Patch(ScaleJsonPatch(rv0, 5), V1Patch.PatchType.JsonPatch);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.AppsV1.PatchNamespacedDeploymentAsync(patch, "checkout", "shop"));

        // Committed in the store although the client never got the reply.
        var stored = h.Cluster.GetObject("deployments", "shop", "checkout")!;
        Assert.Equal("5", stored.Str("spec", "replicas"));
        Assert.NotEqual(rv0, stored.Str("metadata", "resourceVersion"));
        var first = Assert.Single(h.Cluster.Requests, r => r.Verb == "patch");
        Assert.Equal(200, first.StatusCode);
        Assert.Equal(0, first.AnsweredStatusCode);
        Assert.True(first.Committed);
        Assert.Equal("/apis/apps/v1/namespaces/shop/deployments/checkout", first.RawPath);

        // The resumed attempt sends the same patch: its test op sees the new resourceVersion.
        var retry = await Assert.ThrowsAsync<HttpOperationException>(() => client.AppsV1.PatchNamespacedDeploymentAsync(patch, "checkout", "shop"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, retry.Response.StatusCode);
        Assert.Equal("Invalid", JsonNode.Parse(retry.Response.Content)!.Str("reason"));
        var second = h.Cluster.Requests.Where(r => r.Verb == "patch").Last();
        Assert.Equal(422, second.StatusCode);
        Assert.Equal(422, second.AnsweredStatusCode);
        Assert.False(second.Committed);
        Assert.Equal("5", h.Cluster.GetObject("deployments", "shop", "checkout")!.Str("spec", "replicas"));
    }

    [Fact]
    public async Task Injected_status_after_apply_commits_the_merge_patch_and_a_retry_with_the_stale_resourceVersion_gets_409()
    {
        await using var h = await Harness.StartAsync("healthy.yaml", fakeTime: true);
        using var client = Client(h);
        var rv0 = (await client.AppsV1.ReadNamespacedDeploymentAsync("checkout", "shop")).Metadata.ResourceVersion;
        h.Cluster.Faults.Add(new FaultRule { Verb = "patch", Resource = "deployments", AfterApply = true, StatusCode = 504, MaxCount = 1 });
        var body = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = rv0 },
            ["spec"] = new JsonObject { ["template"] = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { ["kubectl.kubernetes.io/restartedAt"] = "2026-03-02T09:00:00Z" } } } },
        }.ToJsonString();
        var patch = new V1Patch(body, V1Patch.PatchType.MergePatch);

        var lost = await Assert.ThrowsAsync<HttpOperationException>(() => client.AppsV1.PatchNamespacedDeploymentAsync(patch, "checkout", "shop"));
        Assert.Equal(HttpStatusCode.GatewayTimeout, lost.Response.StatusCode);
        var stored = h.Cluster.GetObject("deployments", "shop", "checkout")!;
        Assert.Equal("2026-03-02T09:00:00Z", stored.Str("spec", "template", "metadata", "annotations", "kubectl.kubernetes.io/restartedAt"));
        var first = Assert.Single(h.Cluster.Requests, r => r.Verb == "patch");
        Assert.Equal((200, 504, true), (first.StatusCode, first.AnsweredStatusCode, first.Committed));

        var retry = await Assert.ThrowsAsync<HttpOperationException>(() => client.AppsV1.PatchNamespacedDeploymentAsync(patch, "checkout", "shop"));
        Assert.Equal(HttpStatusCode.Conflict, retry.Response.StatusCode);
        Assert.Equal("Conflict", JsonNode.Parse(retry.Response.Content)!.Str("reason"));
        Assert.Equal(409, h.Cluster.Requests.Where(r => r.Verb == "patch").Last().StatusCode);
    }

    [Fact]
    public async Task Rule_without_AfterApply_still_faults_before_the_store_sees_the_request()
    {
        await using var h = await Harness.StartAsync("healthy.yaml", fakeTime: true);
        using var client = Client(h);
        var rv0 = (await client.AppsV1.ReadNamespacedDeploymentAsync("checkout", "shop")).Metadata.ResourceVersion;
        h.Cluster.Faults.Add(new FaultRule { Verb = "patch", Resource = "deployments", DropConnection = true, StatusCode = null, MaxCount = 1 });
        var patch = new V1Patch(ScaleJsonPatch(rv0, 5), V1Patch.PatchType.JsonPatch);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.AppsV1.PatchNamespacedDeploymentAsync(patch, "checkout", "shop"));
        Assert.Equal("3", h.Cluster.GetObject("deployments", "shop", "checkout")!.Str("spec", "replicas"));
        var dropped = Assert.Single(h.Cluster.Requests, r => r.Verb == "patch");
        Assert.Equal((0, 0, false), (dropped.StatusCode, dropped.AnsweredStatusCode, dropped.Committed));

        var ok = await client.AppsV1.PatchNamespacedDeploymentAsync(patch, "checkout", "shop");
        Assert.Equal(5, ok.Spec.Replicas);
    }

    [Fact]
    public async Task RawPath_is_the_request_path_as_received_while_Path_and_Name_are_decoded()
    {
        await using var h = await Harness.StartAsync("healthy.yaml", fakeTime: true);
        using var http = new HttpClient { BaseAddress = h.Cluster.BaseAddress };
        using var answer = await http.GetAsync(new Uri("apis/apps/v1/namespaces/shop/deployments/check%20out?limit=1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        var recorded = h.Cluster.Requests.Last();
        Assert.Equal("/apis/apps/v1/namespaces/shop/deployments/check%20out", recorded.RawPath);
        Assert.Equal("/apis/apps/v1/namespaces/shop/deployments/check out", recorded.Path);
        Assert.Equal("check out", recorded.Name);
        Assert.Equal("?limit=1", recorded.Query);
    }
}
