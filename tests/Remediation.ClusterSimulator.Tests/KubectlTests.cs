using System.Text.Json.Nodes;

namespace Remediation.ClusterSimulator.Tests;

/// <summary>The real kubectl against the simulator.</summary>
public sealed class KubectlTests
{
    [Fact]
    public async Task GetDeployRsPodsJsonShowsBadRollout()
    {
        await using var h = await Harness.StartAsync("bad-rollout.yaml", fakeTime: true);
        var r = (await h.KubectlAsync("-n", "shop", "get", "deploy,rs,pods", "-o", "json")).EnsureSuccess();
        var items = JsonNode.Parse(r.StdOut)!["items"]!.AsArray();
        var checkoutPods = items.Where(i => i.Str("kind") == "Pod" && i.Str("metadata", "labels", "app") == "checkout").ToList();
        Assert.Equal(3, checkoutPods.Count);
        foreach (var pod in checkoutPods)
        {
            var cs = pod.At("status", "containerStatuses")!.AsArray()[0]!;
            Assert.Equal("CrashLoopBackOff", cs.Str("state", "waiting", "reason"));
            Assert.True(cs["restartCount"]!.GetValue<int>() > 0);
            Assert.Equal("Error", cs.Str("lastState", "terminated", "reason"));
        }

        var rs = items.Where(i => i.Str("kind") == "ReplicaSet" && i.Str("metadata", "labels", "app") == "checkout").ToList();
        var rev1 = Assert.Single(rs, x => x.Str("metadata", "annotations", "deployment.kubernetes.io/revision") == "1");
        Assert.Equal("0", rev1.Str("spec", "replicas"));
        Assert.Contains(":1.4.2", rev1.Str("spec", "template", "spec", "containers")!, StringComparison.Ordinal);
        var deploy = Assert.Single(items, i => i.Str("kind") == "Deployment" && i.Str("metadata", "name") == "checkout");
        Assert.Equal("2", deploy.Str("metadata", "annotations", "deployment.kubernetes.io/revision"));
    }

    [Fact]
    public async Task RolloutHistoryUndoReusesOldReplicaSet()
    {
        await using var h = await Harness.StartAsync("bad-rollout.yaml", fakeTime: true);
        var history = (await h.KubectlAsync("-n", "shop", "rollout", "history", "deploy/checkout")).EnsureSuccess().StdOut;
        Assert.Contains("deploy checkout 1.4.2", history, StringComparison.Ordinal);
        Assert.Contains("deploy checkout 1.5.0", history, StringComparison.Ordinal);

        var rsBefore = h.Cluster.ListObjects("replicasets", "shop").Where(r => r.Str("metadata", "labels", "app") == "checkout").ToList();
        var rev1 = rsBefore.Single(r => r.Str("metadata", "annotations", "deployment.kubernetes.io/revision") == "1");
        (await h.KubectlAsync("-n", "shop", "rollout", "undo", "deploy/checkout")).EnsureSuccess();

        var d = h.Cluster.GetObject("deployments", "shop", "checkout")!;
        Assert.Equal(JsonExt.TemplateWithoutHash(rev1.At("spec", "template")), JsonExt.TemplateWithoutHash(d.At("spec", "template")));
        var rsAfter = h.Cluster.ListObjects("replicasets", "shop").Where(r => r.Str("metadata", "labels", "app") == "checkout").ToList();
        Assert.Equal(rsBefore.Select(r => r.Str("metadata", "name")).Order(), rsAfter.Select(r => r.Str("metadata", "name")).Order());
        var reused = rsAfter.Single(r => r.Str("metadata", "name") == rev1.Str("metadata", "name"));
        Assert.Equal("3", reused.Str("metadata", "annotations", "deployment.kubernetes.io/revision"));
        Assert.Equal("3", d.Str("metadata", "annotations", "deployment.kubernetes.io/revision"));

        await h.EventuallyAsync(() => h.Cluster.GetObject("deployments", "shop", "checkout")!.Str("status", "availableReplicas") == "3", "rolled back pods available");
        var history2 = (await h.KubectlAsync("-n", "shop", "rollout", "history", "deploy/checkout")).EnsureSuccess().StdOut;
        Assert.Contains("3         deploy checkout 1.4.2", history2, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RolloutRestartAndStatusComplete()
    {
        await using var h = await Harness.StartAsync("healthy.yaml");
        var before = h.Cluster.ListObjects("replicasets", "shop").Count(r => r.Str("metadata", "labels", "app") == "checkout");
        (await h.KubectlAsync("-n", "shop", "rollout", "restart", "deploy/checkout")).EnsureSuccess();
        var d = h.Cluster.GetObject("deployments", "shop", "checkout")!;
        Assert.NotNull(d.Str("spec", "template", "metadata", "annotations", "kubectl.kubernetes.io/restartedAt"));
        var status = (await h.KubectlAsync("-n", "shop", "rollout", "status", "deploy/checkout", "--timeout=30s")).EnsureSuccess();
        Assert.Contains("successfully rolled out", status.StdOut, StringComparison.Ordinal);
        var rs = h.Cluster.ListObjects("replicasets", "shop").Where(r => r.Str("metadata", "labels", "app") == "checkout").ToList();
        Assert.Equal(before + 1, rs.Count);
        Assert.Equal("2", h.Cluster.GetObject("deployments", "shop", "checkout")!.Str("metadata", "annotations", "deployment.kubernetes.io/revision"));
    }

    [Fact]
    public async Task ScaleDeleteAndLabelSelectors()
    {
        await using var h = await Harness.StartAsync("healthy.yaml");
        (await h.KubectlAsync("-n", "shop", "scale", "deploy/checkout", "--replicas=5")).EnsureSuccess();
        Assert.Equal("5", h.Cluster.GetObject("deployments", "shop", "checkout")!.Str("spec", "replicas"));
        Assert.Contains(h.Cluster.Requests, r => r.Resource == "deployments/scale" && r.Verb == "patch" && r.StatusCode == 200);
        await h.EventuallyAsync(() => h.Cluster.GetObject("deployments", "shop", "checkout")!.Str("status", "readyReplicas") == "5", "5 ready replicas");

        var names = (await h.KubectlAsync("-n", "shop", "get", "pods", "-l", "app=checkout", "-o", "name")).EnsureSuccess().StdOut
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, names.Length);
        Assert.All(names, n => Assert.StartsWith("pod/checkout-", n, StringComparison.Ordinal));
        var none = (await h.KubectlAsync("-n", "shop", "get", "pods", "-l", "app in (checkout,frontend),version!=v1", "-o", "name")).EnsureSuccess().StdOut;
        Assert.Equal("", none.Trim());
        var both = (await h.KubectlAsync("-n", "shop", "get", "pods", "-l", "app in (checkout,frontend)", "-o", "name")).EnsureSuccess().StdOut;
        Assert.Equal(7, both.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var victim = names[0]["pod/".Length..];
        (await h.KubectlAsync("-n", "shop", "delete", "pod", victim)).EnsureSuccess();
        Assert.Null(h.Cluster.GetObject("pods", "shop", victim));
        await h.EventuallyAsync(() => h.Cluster.GetObject("deployments", "shop", "checkout")!.Str("status", "readyReplicas") == "5", "replacement pod ready");
    }

    [Fact]
    public async Task PatchVirtualServiceAndListHttpRoutes()
    {
        await using var h = await Harness.StartAsync("v2-degraded.yaml", fakeTime: true);
        var patch = """{"spec":{"http":[{"route":[{"destination":{"host":"reviews","subset":"v1"},"weight":100},{"destination":{"host":"reviews","subset":"v2"},"weight":0}]}]}}""";
        (await h.KubectlAsync("-n", "shop", "patch", "virtualservice", "reviews", "--type", "merge", "-p", patch)).EnsureSuccess();
        var vs = h.Cluster.GetObject("virtualservices", "shop", "reviews")!;
        Assert.Equal("100", vs.At("spec", "http")!.AsArray()[0]!["route"]!.AsArray()[0]!.Str("weight"));
        Assert.Equal("2", vs.Str("metadata", "generation"));

        var routes = (await h.KubectlAsync("-n", "shop", "get", "httproutes", "-o", "json")).EnsureSuccess();
        Assert.Contains("reviews-route", routes.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthCanIAnswersFromTheRenderedRemediatorRole()
    {
        const string principal = "11111111-2222-3333-4444-555555555555";
        await using var h = await Harness.StartAsync("bad-rollout.yaml", fakeTime: true);
        // No RBAC objects loaded: the simulator's documented default allows everyone everything.
        Assert.True(await CanIAsync(h, "delete", "deployments", "-n", "shop", "--as", principal));

        (await h.KubectlAsync("apply", "-f", await RenderRbacAsync(h, "shop", "--principal", principal))).EnsureSuccess();
        Assert.NotNull(h.Cluster.GetObject("roles", "shop", "remediation-remediator"));

        // What the remediator's Role grants in the allowlisted namespace.
        Assert.True(await CanIAsync(h, "patch", "deployments", "-n", "shop", "--as", principal));
        Assert.True(await CanIAsync(h, "patch", "deployments", "--subresource=scale", "-n", "shop", "--as", principal));
        Assert.True(await CanIAsync(h, "delete", "pods", "-n", "shop", "--as", principal));
        Assert.True(await CanIAsync(h, "list", "replicasets", "-n", "shop", "--as", principal));
        Assert.True(await CanIAsync(h, "get", "jobs.batch", "-n", "shop", "--as", principal));
        Assert.True(await CanIAsync(h, "patch", "virtualservices.networking.istio.io", "-n", "shop", "--as", principal));
        Assert.True(await CanIAsync(h, "patch", "httproutes.gateway.networking.k8s.io", "-n", "shop", "--as", principal));
        // What it does not: other verbs, other resources, other namespaces, cluster scope, other users.
        Assert.False(await CanIAsync(h, "delete", "deployments", "-n", "shop", "--as", principal));
        Assert.False(await CanIAsync(h, "create", "deployments", "-n", "shop", "--as", principal));
        Assert.False(await CanIAsync(h, "update", "deployments", "-n", "shop", "--as", principal));
        Assert.False(await CanIAsync(h, "watch", "replicasets", "-n", "shop", "--as", principal));
        Assert.False(await CanIAsync(h, "list", "deployments", "-n", "shop", "--as", principal));
        Assert.False(await CanIAsync(h, "get", "secrets", "-n", "shop", "--as", principal));
        Assert.False(await CanIAsync(h, "patch", "configmaps", "-n", "shop", "--as", principal));
        Assert.False(await CanIAsync(h, "patch", "deployments", "-n", "payments", "--as", principal));
        Assert.False(await CanIAsync(h, "get", "pods", "-n", "kube-system", "--as", principal));
        Assert.False(await CanIAsync(h, "list", "pods", "--all-namespaces", "--as", principal));
        Assert.False(await CanIAsync(h, "get", "nodes", "--as", principal));
        Assert.False(await CanIAsync(h, "patch", "deployments", "-n", "shop", "--as", "someone-else"));
        // The cluster admin the kubeconfig authenticates as is not limited by the remediator's Role.
        Assert.True(await CanIAsync(h, "delete", "deployments", "-n", "shop"));

        var rules = (await h.KubectlAsync("auth", "can-i", "--list", "-n", "shop", "--as", principal)).EnsureSuccess().StdOut;
        Assert.Contains("deployments.apps", rules, StringComparison.Ordinal);
        Assert.DoesNotContain("secrets", rules, StringComparison.Ordinal);

        // The API server enforces the same rules on the calls themselves.
        (await h.KubectlAsync("--as", principal, "-n", "shop", "get", "pods")).EnsureSuccess();
        var delete = await h.KubectlAsync("--as", principal, "-n", "shop", "delete", "deployment", "checkout");
        Assert.NotEqual(0, delete.ExitCode);
        Assert.Contains("Error from server (Forbidden)", delete.StdErr, StringComparison.Ordinal);
        Assert.Contains($"User \"{principal}\" cannot delete resource \"deployments\" in API group \"apps\" in the namespace \"shop\"", delete.StdErr, StringComparison.Ordinal);
        Assert.NotNull(h.Cluster.GetObject("deployments", "shop", "checkout"));
        Assert.Contains(h.Cluster.Requests, r => r.Verb == "delete" && r.Resource == "deployments" && r.StatusCode == 403);
    }

    [Fact]
    public async Task AuthCanIBindsTheRoleToTheInClusterServiceAccount()
    {
        await using var h = await Harness.StartAsync("healthy.yaml", fakeTime: true);
        (await h.KubectlAsync("apply", "-f", await RenderRbacAsync(h, "shop", "--service-account", "remediation-system/remediator"))).EnsureSuccess();

        Assert.True(await CanIAsync(h, "patch", "deployments", "-n", "shop", "--as", "system:serviceaccount:remediation-system:remediator"));
        Assert.False(await CanIAsync(h, "get", "secrets", "-n", "shop", "--as", "system:serviceaccount:remediation-system:remediator"));
        // Same name, another namespace: a different service account, not bound.
        Assert.False(await CanIAsync(h, "patch", "deployments", "-n", "shop", "--as", "system:serviceaccount:shop:remediator"));
        // A user named like the service account is not the service account.
        Assert.False(await CanIAsync(h, "patch", "deployments", "-n", "shop", "--as", "remediator"));
    }

    /// <summary>Runs <c>kubectl auth can-i</c>: true for "yes" (exit 0), false for "no" (exit 1); anything else fails.</summary>
    private static async Task<bool> CanIAsync(Harness h, params string[] args)
    {
        var r = await h.KubectlAsync(["auth", "can-i", .. args]);
        var answer = r.StdOut.Trim();
        Assert.True((answer, r.ExitCode) is ("yes", 0) or ("no", 1), $"kubectl auth can-i {string.Join(' ', args)}: exit {r.ExitCode}\n{r.StdOut}\n{r.StdErr}");
        return answer == "yes";
    }

    /// <summary>The project's RBAC manifests, rendered by infra/kubernetes/render-rbac.sh into a file.</summary>
    private static async Task<string> RenderRbacAsync(Harness h, params string[] args)
    {
        var script = Path.Combine(Harness.RepoRoot(), "infra", "kubernetes", "render-rbac.sh");
        var psi = new System.Diagnostics.ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"render-rbac.sh failed: {await stderr}");
        var file = Path.Combine(h.Dir, "rbac.yaml");
        await File.WriteAllTextAsync(file, await stdout);
        return file;
    }

    [Fact]
    public async Task ApplyDeploymentAndVirtualService()
    {
        await using var h = await Harness.StartAsync("healthy.yaml", fakeTime: true);
        var manifest = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: cart, namespace: shop, labels: { app: cart } }
            spec:
              replicas: 2
              selector: { matchLabels: { app: cart } }
              template:
                metadata: { labels: { app: cart } }
                spec:
                  containers:
                  - name: cart
                    image: registry.example/cart:1.0.0
                    env: [ { name: A, value: "1" } ]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: { name: cart, namespace: shop }
            spec:
              hosts: [cart]
              http:
              - route:
                - destination: { host: cart }
                  weight: 100
            """;
        var file = Path.Combine(h.Dir, "cart.yaml");
        await File.WriteAllTextAsync(file, manifest);
        var created = (await h.KubectlAsync("apply", "-f", file)).EnsureSuccess().StdOut;
        Assert.Contains("deployment.apps/cart created", created, StringComparison.Ordinal);
        Assert.Contains("virtualservice.networking.istio.io/cart created", created, StringComparison.Ordinal);

        await File.WriteAllTextAsync(file, manifest.Replace("cart:1.0.0", "cart:1.1.0", StringComparison.Ordinal).Replace("- route:", "- timeout: 5s\n  route:", StringComparison.Ordinal));
        var configured = (await h.KubectlAsync("apply", "-f", file)).EnsureSuccess().StdOut;
        Assert.Contains("deployment.apps/cart configured", configured, StringComparison.Ordinal);
        Assert.Contains("virtualservice.networking.istio.io/cart configured", configured, StringComparison.Ordinal);
        var d = h.Cluster.GetObject("deployments", "shop", "cart")!;
        Assert.Equal("registry.example/cart:1.1.0", d.At("spec", "template", "spec", "containers")!.AsArray()[0].Str("image"));
        Assert.Equal("A", d.At("spec", "template", "spec", "containers")!.AsArray()[0]!["env"]!.AsArray()[0].Str("name"));
        Assert.Equal("5s", h.Cluster.GetObject("virtualservices", "shop", "cart")!.At("spec", "http")!.AsArray()[0].Str("timeout"));
        Assert.Contains(h.Cluster.Requests, r => r.Verb == "patch" && r.Resource == "deployments" && r.ContentType == "application/strategic-merge-patch+json");
        Assert.Contains(h.Cluster.Requests, r => r.Verb == "patch" && r.Resource == "virtualservices" && r.ContentType == "application/merge-patch+json");

        var ssa = (await h.KubectlAsync("apply", "--server-side", "-f", file)).EnsureSuccess().StdOut;
        Assert.Contains("serverside-applied", ssa, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StaleReplaceConflictsAndServerDryRunChangesNothing()
    {
        await using var h = await Harness.StartAsync("bad-rollout.yaml", fakeTime: true);
        var yaml = (await h.KubectlAsync("-n", "shop", "get", "deploy", "checkout", "-o", "yaml")).EnsureSuccess().StdOut;
        var file = Path.Combine(h.Dir, "checkout.yaml");
        await File.WriteAllTextAsync(file, yaml);
        (await h.KubectlAsync("-n", "shop", "annotate", "deploy", "checkout", "team=payments")).EnsureSuccess();
        var conflict = await h.KubectlAsync("replace", "-f", file);
        Assert.NotEqual(0, conflict.ExitCode);
        Assert.Contains("Error from server (Conflict)", conflict.StdErr, StringComparison.Ordinal);
        Assert.Contains("Operation cannot be fulfilled on deployments.apps \"checkout\": the object has been modified; please apply your changes to the latest version and try again", conflict.StdErr, StringComparison.Ordinal);

        var before = h.Cluster.Snapshot();
        var requestsBefore = h.Cluster.Requests.Count;
        (await h.KubectlAsync("-n", "shop", "scale", "deploy/checkout", "--replicas=7", "--dry-run=server")).EnsureSuccess();
        (await h.KubectlAsync("-n", "shop", "rollout", "undo", "deploy/checkout", "--dry-run=server")).EnsureSuccess();
        Assert.NotEqual(0, (await h.KubectlAsync("-n", "shop", "patch", "vs", "missing", "--type", "merge", "-p", "{}", "--dry-run=server")).ExitCode);
        (await h.KubectlAsync("-n", "shop", "set", "image", "deploy/checkout", "checkout=registry.example/checkout:9", "--dry-run=server")).EnsureSuccess();
        (await h.KubectlAsync("-n", "shop", "delete", "deploy", "checkout", "--dry-run=server")).EnsureSuccess();
        await h.Cluster.ReconcileAsync();
        Assert.Equal(before, h.Cluster.Snapshot());
        // Every write kubectl sent with --dry-run=server reached the server as a dry run, and none was committed.
        var writes = h.Cluster.Requests.Skip(requestsBefore).Where(r => r.Verb is "create" or "update" or "patch" or "delete").ToList();
        Assert.Contains(writes, r => r.Verb == "patch" && r.Resource == "deployments");
        Assert.Contains(writes, r => r.Verb == "delete" && r.Resource == "deployments");
        Assert.All(writes, r => Assert.True(r.DryRun, $"{r.Verb} {r.Path} was sent without dryRun"));
        Assert.DoesNotContain(writes, r => r.Committed);
    }
}
