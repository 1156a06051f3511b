using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Remediation.ClusterSimulator;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Skeleton;

/// <summary>One real alert, end to end: HTTP → claim → queue → worker → Kubernetes patch → recorded outcome.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AlertToActionTests(AzuriteFixture storage)
{
    private const string RestartPolicy = """
        allow:
          namespaces: [shop]
        rules:
          - name: restart-crashing
            when:
              classes: [CrashLoop, BadRollout]
            action: restart
        """;

    [Fact]
    public async Task Same_payload_posted_5_times_concurrently_gives_one_restart_patch_and_one_outcome()
    {
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await cluster.ReconcileAsync();
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, cluster.BaseAddress, RestartPolicy);
        var payload = await File.ReadAllTextAsync(RepoPaths.Payload("alertmanager/kube-pod-crashlooping.json"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ =>
            host.Client.PostAsync("api/alerts/alertmanager", new StringContent(payload, Encoding.UTF8, "application/json"))));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));
        Assert.Equal(1, bodies.Count(b => b.Contains("\"accepted\":1", StringComparison.Ordinal)));
        Assert.Equal(4, bodies.Count(b => b.Contains("\"duplicates\":1", StringComparison.Ordinal)));

        var incidentId = JsonDocument.Parse(bodies[0]).RootElement.GetProperty("incidents")[0].GetString()!;
        var incident = await host.WaitForStateAsync(incidentId, TimeSpan.FromSeconds(30), IncidentState.Verifying, IncidentState.Succeeded, IncidentState.Failed);
        Assert.Equal("restart", incident.Action);
        // No work left (the queue holds only the scheduled verification check) before counting.
        await host.WaitForNoPendingWorkAsync(TimeSpan.FromSeconds(30), incidentId);

        var patches = cluster.Requests.Where(r => r.IsMutating).ToList();
        var patch = Assert.Single(patches);
        Assert.Equal("patch", patch.Verb);
        Assert.Equal("deployments", patch.Resource);
        Assert.Equal("checkout", patch.Name);
        Assert.Contains("kubectl.kubernetes.io/restartedAt", patch.Body, StringComparison.Ordinal);
        Assert.Contains("\"resourceVersion\"", patch.Body, StringComparison.Ordinal);
        var restartedAt = cluster.GetObject("deployments", "shop", "checkout")!["spec"]!["template"]!["metadata"]!["annotations"]!["kubectl.kubernetes.io/restartedAt"];
        Assert.NotNull(restartedAt);

        var rows = new List<TableEntity>();
        await foreach (var row in host.Store.Table.QueryAsync<TableEntity>(e => e.PartitionKey == incidentId))
        {
            rows.Add(row);
        }
        Assert.Single(rows, r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.OutcomeKey);
        Assert.Single(rows, r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.Intent);
        Assert.Single(rows, r => IncidentRowKeys.KindOf(r.RowKey) == IncidentRowKeys.Summary);
        var intent = rows.Single(r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.Intent);
        Assert.True(intent.GetDateTimeOffset("At") <= rows.Single(r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.OutcomeKey).GetDateTimeOffset("At"));
        Assert.Contains("resourceVersion", intent.GetString("PriorStateJson"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolved_alert_is_recorded_not_acted_on_and_listing_filters_newest_first()
    {
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, cluster.BaseAddress, RestartPolicy, worker: false);
        var resolved = await File.ReadAllTextAsync(RepoPaths.Payload("alertmanager/resolved-and-watchdog.json"));
        using var response = await host.Client.PostAsync("api/alerts/alertmanager", new StringContent(resolved, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Contains("\"resolved\":2", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Never diagnosed, so recorded with the object the alert names (its pod), not an owner looked up in the cluster.
        using var list = await host.Client.GetAsync("api/remediations?namespace=shop&workload=checkout-76bf44d6cf-4crt4");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var body = JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement;
        Assert.False(body.TryGetProperty("continuation", out _)); // one page: nothing follows
        var item = Assert.Single(body.GetProperty("incidents").EnumerateArray());
        Assert.Equal("Resolved", item.GetProperty("state").GetString());
        Assert.Equal("KubePodCrashLooping", item.GetProperty("alertName").GetString());
        Assert.DoesNotContain(cluster.Requests, r => r.IsMutating);

        using var all = await host.Client.GetAsync("api/remediations");
        Assert.Equal(2, JsonDocument.Parse(await all.Content.ReadAsStringAsync()).RootElement.GetProperty("incidents").GetArrayLength());
    }
}
