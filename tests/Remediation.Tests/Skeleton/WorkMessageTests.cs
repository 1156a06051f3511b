using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Host;
using Remediation.Pipeline;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Skeleton;

/// <summary>
/// The incidents one delivery claims are queued together, up to WorkMessage.MaxItems per message, and each item of a
/// message is processed on its own: a failing item neither hides nor blocks the others.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class WorkMessageTests(AzuriteFixture storage)
{
    [Fact]
    public async Task Delivery_of_60_alerts_is_queued_as_3_messages_covering_every_incident_once()
    {
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, kubernetesServer: null, worker: false);
        var body = Delivery(60);

        var first = await PostAsync(host, body);
        Assert.Equal(60, first.RootElement.GetProperty("accepted").GetInt32());
        var ids = first.RootElement.GetProperty("incidents").EnumerateArray().Select(e => e.GetString()!).ToList();
        var messages = (await host.Queue.Queue.PeekMessagesAsync(32)).Value;
        var batches = messages.Select(m => WorkMessage.Parse(m.Body.ToString())).ToList();
        Assert.Equal([25, 25, 10], batches.Select(b => b.Items.Count).Order().Reverse());
        Assert.Equal(ids.Order(), batches.SelectMany(b => b.Items).Select(i => i.IncidentId).Order());
        Assert.All(batches.SelectMany(b => b.Items), i => Assert.False(string.IsNullOrEmpty(i.TraceParent)));

        // The same delivery again: 60 duplicates, no new work.
        var second = await PostAsync(host, body);
        Assert.Equal(60, second.RootElement.GetProperty("duplicates").GetInt32());
        Assert.Equal(3, (await host.Queue.Queue.PeekMessagesAsync(32)).Value.Length);

        // Draining processes every item: default deny refuses all 60 (the namespace is not allowlisted).
        Assert.Equal(3, await StandaloneHost.DrainOnceAsync(host.Services, CancellationToken.None));
        var incidents = await host.Store.ListAsync(new IncidentQuery());
        Assert.Equal(60, incidents.Count);
        Assert.All(incidents, i => Assert.Equal(IncidentState.Refused, i.State));
    }

    [Fact]
    public async Task Failing_item_does_not_stop_the_others_and_the_message_is_retried()
    {
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, kubernetesServer: null, worker: false);
        var ids = (await PostAsync(host, Delivery(3))).RootElement.GetProperty("incidents").EnumerateArray().Select(e => e.GetString()!).ToList();
        var message = Assert.Single((await host.Queue.Queue.PeekMessagesAsync(32)).Value).Body.ToString();
        // The middle incident's recorded alert is corrupt: processing it throws (not a transient fault).
        Assert.True((await host.Store.UpdateAsync(ids[1], corrupt => { corrupt.AlertJson = "{not json"; return true; })).Written);

        var processor = host.Services.GetRequiredService<WorkItemProcessor>();
        // Delivered again (a first delivery starts each item from the claim it carries): each item reads its row.
        await Assert.ThrowsAnyAsync<JsonException>(() => processor.ProcessAsync(message, dequeueCount: 2));

        Assert.Equal(IncidentState.Refused, (await host.Store.GetAsync(ids[0]))!.State);
        Assert.Equal(IncidentState.Received, (await host.Store.GetAsync(ids[1]))!.State);
        Assert.Equal(IncidentState.Refused, (await host.Store.GetAsync(ids[2]))!.State);

        // Poisoned after its retries: the items already done stay as they are, the failing one is recorded Failed.
        await processor.RecordPoisonAsync(message, "poisoned for the test");
        Assert.Equal(IncidentState.Refused, (await host.Store.GetAsync(ids[0]))!.State);
        var failed = (await host.Store.GetAsync(ids[1]))!;
        Assert.Equal((IncidentState.Failed, "poisoned for the test"), (failed.State, failed.OutcomeReason));
        Assert.Equal(IncidentState.Refused, (await host.Store.GetAsync(ids[2]))!.State);
    }

    [Fact]
    public void Single_item_form_of_earlier_versions_still_parses_and_malformed_messages_are_refused()
    {
        var legacy = WorkMessage.Parse("""{"incidentId":"abc","traceParent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}""");
        Assert.Equal(new WorkItem("abc", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), Assert.Single(legacy.Items));
        var batch = new WorkMessage([new WorkItem("a"), new WorkItem("b", "tp")]);
        Assert.Equal(batch.Items, WorkMessage.Parse(batch.ToJson()).Items);
        Assert.Throws<FormatException>(() => WorkMessage.Parse("""{"items":[]}"""));
        Assert.Throws<FormatException>(() => WorkMessage.Parse("""{"items":[{"traceParent":"x"}]}"""));
        Assert.Throws<FormatException>(() => WorkMessage.Parse("{}"));
        Assert.ThrowsAny<JsonException>(() => WorkMessage.Parse("[1,2]"));
        Assert.Equal([25, 25, 1], WorkMessage.Chunk(Enumerable.Range(0, 51).Select(i => new WorkItem($"i{i}"))).Select(m => m.Items.Count));
    }

    private static async Task<JsonDocument> PostAsync(HostHarness host, string body)
    {
        using var response = await host.Client.PostAsync("api/alerts/alertmanager", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>One Alertmanager delivery of <paramref name="count"/> firing alerts on distinct workloads of a namespace the policy does not allow.</summary>
    private static string Delivery(int count)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var alerts = Enumerable.Range(0, count).Select(i => $$"""
            {"status":"firing","labels":{"alertname":"KubePodCrashLooping","namespace":"outside","deployment":"app-{{i}}","severity":"critical"},
             "annotations":{},"startsAt":"2026-11-26T03:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"{{run}}{{i:D4}}"}
            """);
        return $$"""
            {"version":"4","groupKey":"{}:{alertname=\"KubePodCrashLooping\"}","status":"firing","receiver":"remediation","truncatedAlerts":0,
             "groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://alertmanager:9093","alerts":[{{string.Join(",", alerts)}}]}
            """;
    }
}
