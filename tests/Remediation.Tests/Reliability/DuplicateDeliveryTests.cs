using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Remediation.ClusterSimulator;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Xunit.Abstractions;

namespace Remediation.Tests.Reliability;

/// <summary>
/// Duplicates: one payload of each source replayed 1,000 times, 50 at once, over HTTP to the standalone host (real
/// Azurite, the simulator's bad-rollout scenario, a policy that acts) → exactly one incident, one action (mutating
/// Kubernetes call) and one outcome row.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DuplicateDeliveryTests(AzuriteFixture storage, ITestOutputHelper output)
{
    public const int Deliveries = 1_000;
    public const int Concurrency = 50;

    private const string Policy = """
        allow:
          namespaces: [shop]
        rules:
          - name: restart-crashing
            when:
              classes: [CrashLoop, BadRollout]
            action: restart
        """;

    [Theory]
    [InlineData("alertmanager", "alertmanager/kube-pod-crashlooping.json", "application/json")]
    [InlineData("azuremonitor", "azuremonitor/prometheus-alert-crashloop.json", "application/json")]
    [InlineData("eventgrid", "eventgrid/alert-eventgrid-schema.json", "application/json")]
    public async Task Payload_replayed_1000_times_50_at_once_gives_one_action_and_one_outcome(string source, string file, string mediaType)
    {
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await cluster.ReconcileAsync();
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, cluster.BaseAddress, Policy);
        var payload = await File.ReadAllTextAsync(RepoPaths.Payload(file));
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<HttpStatusCode, int>();
        int accepted = 0, duplicates = 0;
        string? incidentId = null;
        var clock = Stopwatch.StartNew();

        await Parallel.ForEachAsync(Enumerable.Range(0, Deliveries), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (_, ct) =>
        {
            using var content = new StringContent(payload, System.Text.Encoding.UTF8, mediaType);
            using var response = await host.Client.PostAsync($"api/alerts/{source}", content, ct);
            statuses.AddOrUpdate(response.StatusCode, 1, (_, n) => n + 1);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
                Interlocked.Add(ref accepted, body.RootElement.GetProperty("accepted").GetInt32());
                Interlocked.Add(ref duplicates, body.RootElement.GetProperty("duplicates").GetInt32());
                Interlocked.CompareExchange(ref incidentId, body.RootElement.GetProperty("incidents")[0].GetString(), null);
            }
        });
        var sendTime = clock.Elapsed;
        Assert.Equal(Deliveries, statuses.GetValueOrDefault(HttpStatusCode.Accepted));
        Assert.NotNull(incidentId);

        var incident = await host.WaitForStateAsync(incidentId, TimeSpan.FromSeconds(60), IncidentState.Verifying, IncidentState.Succeeded, IncidentState.Failed);
        // No work left (the queue holds only the scheduled verification check) before counting.
        await host.WaitForNoPendingWorkAsync(TimeSpan.FromSeconds(60), incidentId);
        var mutating = cluster.Requests.Where(r => r.IsMutating).ToList();
        var rows = await ReliabilitySupport.RowsAsync(host.Store.Table, incidentId);
        var incidents = await host.Store.ListAsync(new IncidentQuery());

        ReliabilitySupport.Report(output,
            $"duplicates {source}: {Deliveries} deliveries ({Concurrency} at once) in {sendTime.TotalSeconds:0.0}s → accepted {accepted}, duplicates {duplicates}, " +
            $"incidents {incidents.Count}, mutating Kubernetes calls {mutating.Count}, intent rows {rows.Count(r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.Intent)}, " +
            $"outcome rows {rows.Count(r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.OutcomeKey)}, state {incident.State}, 5xx {statuses.Where(s => (int)s.Key >= 500).Sum(s => s.Value)}");
        Assert.Equal(1, accepted);
        Assert.Equal(Deliveries - 1, duplicates);
        Assert.Single(incidents);
        var patch = Assert.Single(mutating);
        Assert.Equal(("patch", "checkout"), (patch.Verb, patch.Name));
        Assert.Single(rows, r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.Intent);
        Assert.Single(rows, r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.OutcomeKey);
    }
}
