using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Remediation.ClusterSimulator.Tests;

/// <summary>Scenario states, metrics, API error semantics and the CLI.</summary>
public sealed partial class SimulationTests
{
    private static List<JsonObject> Pods(Harness h, string app) =>
        h.Cluster.ListObjects("pods", "shop").Where(p => p.Str("metadata", "labels", "app") == app).ToList();

    private static JsonNode Container(JsonObject pod) => pod.At("status", "containerStatuses")!.AsArray()[0]!;

    [Fact]
    public async Task BadRolloutCrashLoopsWithOldReplicaSetScaledDown()
    {
        await using var h = await Harness.StartAsync("bad-rollout.yaml", fakeTime: true);
        var pods = Pods(h, "checkout");
        Assert.Equal(3, pods.Count);
        Assert.All(pods, p =>
        {
            Assert.Equal("CrashLoopBackOff", Container(p).Str("state", "waiting", "reason"));
            Assert.True(int.Parse(Container(p).Str("restartCount")!, CultureInfo.InvariantCulture) > 0);
            Assert.Equal("1", Container(p).Str("lastState", "terminated", "exitCode"));
            Assert.Equal("false", Container(p).Str("ready"));
        });
        var restartsBefore = int.Parse(Container(pods[0]).Str("restartCount")!, CultureInfo.InvariantCulture);
        h.Time!.Advance(TimeSpan.FromMinutes(15));
        await h.Cluster.ReconcileAsync();
        Assert.True(int.Parse(Container(Pods(h, "checkout")[0]).Str("restartCount")!, CultureInfo.InvariantCulture) > restartsBefore);

        var rs = h.Cluster.ListObjects("replicasets", "shop").Where(r => r.Str("metadata", "labels", "app") == "checkout").ToList();
        var rev1 = rs.Single(r => r.Str("metadata", "annotations", "deployment.kubernetes.io/revision") == "1");
        Assert.Equal("0", rev1.Str("spec", "replicas"));
        Assert.Equal(rev1.Str("metadata", "labels", "pod-template-hash"), rev1.Str("metadata", "name")!["checkout-".Length..]);
        var d = h.Cluster.GetObject("deployments", "shop", "checkout")!;
        var conditions = d.At("status", "conditions")!.AsArray();
        Assert.Contains(conditions, c => c.Str("type") == "Available" && c.Str("status") == "False");
        Assert.Null(d.Str("status", "availableReplicas"));
        Assert.Equal("3", d.Str("status", "unavailableReplicas"));

        var events = h.Cluster.ListObjects("events", "shop");
        Assert.Contains(events, e => e.Str("reason") == "BackOff" && e.Str("involvedObject", "kind") == "Pod" && e.Str("message")!.StartsWith("Back-off restarting failed container", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Str("reason") == "ScalingReplicaSet" && e.Str("involvedObject", "name") == "checkout");

        var metrics = h.Cluster.MetricsText();
        Assert.Matches(@"kube_pod_container_status_waiting_reason\{namespace=""shop"",pod=""checkout-[a-z0-9]+-[a-z0-9]{5}"",container=""checkout"",reason=""CrashLoopBackOff""\} 1", metrics);
        Assert.Matches(@"kube_pod_container_status_restarts_total\{namespace=""shop"",pod=""checkout-[^""]+"",container=""checkout""\} [1-9]", metrics);
    }

    [Fact]
    public async Task OtherScenariosHaveTheirSymptoms()
    {
        await using (var oom = await Harness.StartAsync("oom.yaml", fakeTime: true))
        {
            var pods = Pods(oom, "cart");
            Assert.Equal(2, pods.Count);
            Assert.All(pods, p => Assert.Equal("OOMKilled", Container(p).Str("lastState", "terminated", "reason")));
            Assert.All(pods, p => Assert.Equal("137", Container(p).Str("lastState", "terminated", "exitCode")));
            Assert.Equal("128Mi", pods[0].At("spec", "containers")!.AsArray()[0].Str("resources", "limits", "memory"));
            Assert.Single(oom.Cluster.ListObjects("replicasets", "shop"));
        }

        await using (var pull = await Harness.StartAsync("image-pull.yaml", fakeTime: true))
        {
            var waiting = Pods(pull, "payments").Select(p => Container(p).Str("state", "waiting", "reason")).Where(r => r is not null).ToList();
            Assert.Equal(["ImagePullBackOff"], waiting);
            Assert.Equal("0", Container(Pods(pull, "payments").First(p => Container(p).Str("state", "waiting", "reason") is not null)).Str("restartCount"));
            var d = pull.Cluster.GetObject("deployments", "shop", "payments")!;
            Assert.Contains(d.At("status", "conditions")!.AsArray(), c => c.Str("reason") == "ProgressDeadlineExceeded");
            var rollout = await pull.KubectlAsync("-n", "shop", "rollout", "status", "deploy/payments", "--timeout=10s");
            Assert.NotEqual(0, rollout.ExitCode);
            Assert.Contains("exceeded its progress deadline", rollout.StdErr, StringComparison.Ordinal);
            Assert.Contains(pull.Cluster.ListObjects("events", "shop"), e => e.Str("reason") == "Failed" && e.Str("message")!.StartsWith("Failed to pull image", StringComparison.Ordinal));
        }

        await using (var pending = await Harness.StartAsync("pending.yaml", fakeTime: true))
        {
            var stuck = Pods(pending, "search").Single(p => p.Str("status", "phase") == "Pending");
            var cond = stuck.At("status", "conditions")!.AsArray().Single(c => c.Str("type") == "PodScheduled");
            Assert.Equal("False", cond.Str("status"));
            Assert.Equal("Unschedulable", cond.Str("reason"));
            Assert.Equal("0/3 nodes are available: 3 Insufficient cpu.", cond.Str("message"));
            Assert.Contains(pending.Cluster.ListObjects("events", "shop"), e => e.Str("reason") == "FailedScheduling");
        }

        await using (var sat = await Harness.StartAsync("saturation.yaml", fakeTime: true))
        {
            var hpa = sat.Cluster.GetObject("horizontalpodautoscalers", "shop", "api")!;
            Assert.Equal("4", hpa.Str("status", "currentReplicas"));
            Assert.Equal("4", hpa.Str("spec", "maxReplicas"));
            Assert.Equal("2", hpa.Str("spec", "minReplicas"));
            Assert.Equal(4, Pods(sat, "api").Count(p => p.At("status", "conditions")!.AsArray().Any(c => c.Str("type") == "Ready" && c.Str("status") == "True")));
        }

        await using (var worker = await Harness.StartAsync("crashloop-no-change.yaml", fakeTime: true))
        {
            var rs = Assert.Single(worker.Cluster.ListObjects("replicasets", "shop"));
            Assert.Equal("1", rs.Str("metadata", "annotations", "deployment.kubernetes.io/revision"));
            Assert.All(Pods(worker, "worker"), p => Assert.Equal("CrashLoopBackOff", Container(p).Str("state", "waiting", "reason")));
        }
    }

    private static double Counter(string metrics, string workload, string code)
    {
        var total = 0.0;
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith("istio_requests_total{", StringComparison.Ordinal)
                && line.Contains($"destination_workload=\"{workload}\"", StringComparison.Ordinal)
                && line.Contains($"response_code=\"{code}\"", StringComparison.Ordinal))
            {
                total += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    [Fact]
    public async Task IstioMetricsFollowErrorRatiosAndVirtualServiceWeights()
    {
        await using var h = await Harness.StartAsync("v2-degraded.yaml", fakeTime: true);
        h.Time!.Advance(TimeSpan.FromMinutes(10));
        var m1 = h.Cluster.MetricsText();
        var v1Ok = Counter(m1, "reviews-v1", "200");
        var v1Err = Counter(m1, "reviews-v1", "503");
        var v2Ok = Counter(m1, "reviews-v2", "200");
        var v2Err = Counter(m1, "reviews-v2", "503");
        Assert.InRange(v2Err / (v2Ok + v2Err), 0.29, 0.31);
        Assert.InRange(v1Err / (v1Ok + v1Err), 0.0, 0.003);
        Assert.InRange(v1Ok + v1Err + v2Ok + v2Err, 20 * 600 * 0.98, 20 * 600 * 1.02);
        Assert.Contains("destination_service=\"reviews.shop.svc.cluster.local\"", m1, StringComparison.Ordinal);
        Assert.Contains("destination_version=\"v2\"", m1, StringComparison.Ordinal);
        Assert.Contains("source_workload=\"productpage\"", m1, StringComparison.Ordinal);

        // Histogram: buckets cumulative, +Inf == count, p99 of v2 between 500 and 1000 ms, v1 under 100.
        var buckets = BucketRegex().Matches(m1).Where(m => m.Value.Contains("destination_workload=\"reviews-v2\"", StringComparison.Ordinal) && m.Value.Contains("response_code=\"200\"", StringComparison.Ordinal))
            .Select(m => (Le: m.Groups["le"].Value, Value: double.Parse(m.Groups["v"].Value, CultureInfo.InvariantCulture))).ToList();
        Assert.Equal(20, buckets.Count);
        Assert.Equal(buckets.Select(b => b.Value).Order(), buckets.Select(b => b.Value));
        Assert.Equal(v2Ok, buckets[^1].Value);
        var le500 = buckets.Single(b => b.Le == "500").Value / v2Ok;
        var le1000 = buckets.Single(b => b.Le == "1000").Value / v2Ok;
        Assert.InRange(le500, 0.8, 0.99);
        Assert.True(le1000 >= 0.99);

        // Shift all traffic to v1: v2 counters stop growing, v1 keeps growing.
        using var http = new HttpClient { BaseAddress = h.Cluster.BaseAddress };
        var patch = """{"spec":{"http":[{"route":[{"destination":{"host":"reviews","subset":"v1"},"weight":100},{"destination":{"host":"reviews","subset":"v2"},"weight":0}]}]}}""";
        using var content = new StringContent(patch, Encoding.UTF8, "application/merge-patch+json");
        var resp = await http.PatchAsync(new Uri("apis/networking.istio.io/v1/namespaces/shop/virtualservices/reviews", UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        var m2 = h.Cluster.MetricsText();
        h.Time.Advance(TimeSpan.FromMinutes(5));
        var m3 = await http.GetStringAsync(new Uri("metrics", UriKind.Relative));
        Assert.Equal(Counter(m2, "reviews-v2", "200") + Counter(m2, "reviews-v2", "503"), Counter(m3, "reviews-v2", "200") + Counter(m3, "reviews-v2", "503"));
        Assert.InRange(Counter(m3, "reviews-v1", "200") - Counter(m2, "reviews-v1", "200"), 20 * 300 * 0.99, 20 * 300 * 1.01);
        Assert.True(Counter(m2, "reviews-v2", "200") >= v2Ok);
    }

    [GeneratedRegex(@"istio_request_duration_milliseconds_bucket\{(?<l>[^}]*),le=""(?<le>[^""]+)""\} (?<v>[0-9.]+)")]
    private static partial Regex BucketRegex();

    [Fact]
    public async Task ApiErrorsLookLikeTheRealServer()
    {
        await using var h = await Harness.StartAsync("healthy.yaml", fakeTime: true);
        using var http = new HttpClient { BaseAddress = h.Cluster.BaseAddress };
        async Task<(HttpStatusCode Code, JsonNode Body)> Send(HttpMethod method, string path, string? body = null, string contentType = "application/json")
        {
            using var req = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
            if (body is not null)
            {
                req.Content = new StringContent(body, Encoding.UTF8);
                req.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
            }

            using var resp = await http.SendAsync(req);
            return (resp.StatusCode, JsonNode.Parse(await resp.Content.ReadAsStringAsync())!);
        }

        const string deployments = "apis/apps/v1/namespaces/shop/deployments";
        var notFound = await Send(HttpMethod.Get, deployments + "/x");
        Assert.Equal(HttpStatusCode.NotFound, notFound.Code);
        Assert.Equal("deployments.apps \"x\" not found", notFound.Body.Str("message"));
        Assert.Equal("apps", notFound.Body.Str("details", "group"));
        Assert.Equal("deployments", notFound.Body.Str("details", "kind"));

        var existing = h.Cluster.GetObject("deployments", "shop", "checkout")!;
        existing.Remove("status");
        var exists = await Send(HttpMethod.Post, deployments, existing.ToJsonString());
        Assert.Equal(HttpStatusCode.Conflict, exists.Code);
        Assert.Equal("AlreadyExists", exists.Body.Str("reason"));

        var negative = await Send(HttpMethod.Patch, deployments + "/checkout", """{"spec":{"replicas":-1}}""", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, negative.Code);
        Assert.Equal("Invalid", negative.Body.Str("reason"));
        Assert.Contains("spec.replicas: Invalid value: -1: must be greater than or equal to 0", negative.Body.Str("message")!, StringComparison.Ordinal);

        var noName = await Send(HttpMethod.Post, deployments, """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{},"spec":{}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, noName.Code);

        var malformed = await Send(HttpMethod.Patch, deployments + "/checkout", "{not json", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.Code);

        var unsupported = await Send(HttpMethod.Patch, deployments + "/checkout", "{}", "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, unsupported.Code);

        var staleRv = await Send(HttpMethod.Patch, deployments + "/checkout", """{"metadata":{"resourceVersion":"1"},"spec":{"replicas":1}}""", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.Conflict, staleRv.Code);
        Assert.Equal("Conflict", staleRv.Body.Str("reason"));

        var strategic = await Send(
            HttpMethod.Patch,
            deployments + "/checkout",
            """{"spec":{"template":{"spec":{"containers":[{"name":"checkout","env":[{"name":"B","value":"2"}]}]}}}}""",
            "application/strategic-merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, strategic.Code);
        var container = strategic.Body.At("spec", "template", "spec", "containers")!.AsArray().Single()!;
        Assert.Equal("registry.example/checkout:1.4.2", container.Str("image"));
        Assert.Equal("2", strategic.Body.Str("metadata", "generation"));

        var jsonPatch = await Send(HttpMethod.Patch, deployments + "/checkout", """[{"op":"test","path":"/spec/replicas","value":3},{"op":"replace","path":"/spec/replicas","value":2}]""", "application/json-patch+json");
        Assert.Equal(HttpStatusCode.OK, jsonPatch.Code);
        Assert.Equal("2", jsonPatch.Body.Str("spec", "replicas"));

        var dryRunCreate = await Send(HttpMethod.Post, "api/v1/namespaces/shop/services?dryRun=All", """{"apiVersion":"v1","kind":"Service","metadata":{"name":"tmp"},"spec":{"selector":{"app":"tmp"},"ports":[{"port":80}]}}""");
        Assert.Equal(HttpStatusCode.Created, dryRunCreate.Code);
        Assert.Null(h.Cluster.GetObject("services", "shop", "tmp"));

        var list = await Send(HttpMethod.Get, "api/v1/namespaces/shop/pods?labelSelector=" + Uri.EscapeDataString("app in (checkout),version!=v2") + "&fieldSelector=status.phase%3DRunning");
        Assert.Equal("PodList", list.Body.Str("kind"));
        var expected = Pods(h, "checkout").Count(p => p.Str("status", "phase") == "Running");
        Assert.True(expected > 0);
        Assert.Equal(expected, list.Body["items"]!.AsArray().Count);
        Assert.NotNull(list.Body.Str("metadata", "resourceVersion"));

        var deleted = await Send(HttpMethod.Delete, deployments + "/frontend");
        Assert.Equal("Success", deleted.Body.Str("status"));
        await h.Cluster.ReconcileAsync();
        Assert.Empty(Pods(h, "frontend"));
        Assert.DoesNotContain(h.Cluster.ListObjects("replicasets", "shop"), r => r.Str("metadata", "labels", "app") == "frontend");
    }

    [Fact]
    public async Task WatchStreamsAndResumesOverRawHttp()
    {
        await using var h = await Harness.StartAsync("healthy.yaml", fakeTime: true);
        using var http = new HttpClient { BaseAddress = h.Cluster.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var list = JsonNode.Parse(await http.GetStringAsync(new Uri("apis/apps/v1/namespaces/shop/deployments", UriKind.Relative)))!;
        var rv = list.Str("metadata", "resourceVersion");
        await h.KubectlAsync("-n", "shop", "label", "deploy", "frontend", "tier=web");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var resp = await http.GetAsync(new Uri($"apis/apps/v1/namespaces/shop/deployments?watch=true&resourceVersion={rv}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, cts.Token);
        using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync(cts.Token));
        var line = await reader.ReadLineAsync(cts.Token);
        var ev = JsonNode.Parse(line!)!;
        Assert.Equal("MODIFIED", ev.Str("type"));
        Assert.Equal("web", ev.Str("object", "metadata", "labels", "tier"));

        var tooOld = await http.GetAsync(new Uri("apis/apps/v1/namespaces/shop/deployments?watch=true&resourceVersion=not-a-number", UriKind.Relative), cts.Token);
        Assert.Equal(HttpStatusCode.BadRequest, tooOld.StatusCode);
        Assert.Contains(h.Cluster.Requests, r => r.Verb == "watch" && r.Resource == "deployments");
    }

    [Fact]
    public async Task CliRejectsBadArgumentsWithExitCode2()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "cluster-simulator.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("--bogus");
        using var p = Process.Start(psi)!;
        var err = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.Equal(2, p.ExitCode);
        Assert.Contains("unknown argument", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScenarioParsesFromJsonAndYaml()
    {
        var fromYaml = Scenario.LoadFile(Harness.ScenarioPath("v2-degraded.yaml"));
        Assert.Equal(0.30, fromYaml.Behaviours["registry.example/reviews:2.0.0"].ErrorRatio);
        var json = """{"namespaces":["a"],"deployments":[{"name":"x","namespace":"a","image":"img:1","replicas":2}],"behaviours":{"img:1":{"mode":"healthy"}}}""";
        await using var h = await Harness.StartAsync(fakeTime: true);
        h.Cluster.LoadScenario(Scenario.Parse(json));
        Assert.Equal("2", h.Cluster.GetObject("deployments", "a", "x")!.Str("status", "readyReplicas"));
        Assert.Throws<System.Text.Json.JsonException>(() => Scenario.Parse("""{"bogusField": 1}"""));
    }
}
