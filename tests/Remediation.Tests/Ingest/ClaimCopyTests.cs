using System.Text;
using System.Text.Json;
using CsCheck;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Alerts;
using Remediation.Diagnosis;
using Remediation.Ingest;
using Remediation.Pipeline;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Ingest;

/// <summary>
/// A new incident's work item carries its row as claimed, and the first delivery starts from it instead of reading the
/// row: the copy must be the row exactly (every field a replace writes back), a row changed since must win (the write is
/// conditional on the claim's ETag), a retried delivery must read, and no message may outgrow the queue's limit.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ClaimCopyTests(AzuriteFixture storage)
{
    private const string Policy = PipelineHarness.RestartCrashLoopsPolicy;

    /// <summary>Label values as monitoring sends them: quotes, backslashes, newlines, non-ASCII, HTML-ish text.</summary>
    private static readonly Gen<string> Values = Gen.String[Gen.Char["ab \"\\\n<>&'é\u043E\u4e2d\U0001F600xyz019"], 0, 40];

    private static readonly Gen<NormalizedAlert> Alerts =
        from fingerprint in Gen.String[Gen.Char["0123456789abcdef"], 16, 16]
        from summary in Values
        from extra in Values
        from minutes in Gen.Int[0, 100_000]
        select Alert(fingerprint, summary, extra, PipelineHarness.Start.AddMinutes(-minutes));

    private static NormalizedAlert Alert(string fingerprint, string summary, string extra, DateTimeOffset startsAt)
    {
        var alert = PipelineHarness.Alert("shop", "worker", startsAt: startsAt, fingerprint: fingerprint);
        return alert with
        {
            Labels = new Dictionary<string, string>(alert.Labels) { ["extra"] = extra },
            Annotations = new Dictionary<string, string> { ["summary"] = summary },
        };
    }

    [Fact]
    public async Task The_copy_a_work_item_carries_is_the_row_as_stored_for_generated_alerts()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "crashloop-no-change.yaml", Policy, FixedDiagnoser.Of(FailureClass.CrashLoop));
        var ingestor = harness.Services.GetRequiredService<AlertIngestor>();
        var queue = harness.Services.GetRequiredService<WorkQueue>();
        var pcg = new PCG(20, 20261201);
        var alerts = Enumerable.Range(0, 30).Select(_ => Alerts.Generate(pcg, null, out Size _)).ToList();
        await ingestor.IngestAsync(alerts);

        var items = new List<WorkItem>();
        foreach (var message in (await queue.Queue.PeekMessagesAsync(32)).Value)
        {
            items.AddRange(WorkMessage.Parse(message.Body.ToString()).Items);
        }
        Assert.Equal(alerts.Select(a => a.IncidentId).Order(), items.Select(i => i.IncidentId).Order());
        var properties = typeof(IncidentRecord).GetProperties().Where(p => p.CanWrite && p.Name != nameof(IncidentRecord.Timestamp)).ToList();
        foreach (var item in items)
        {
            var copy = AlertIngestor.ClaimedRecord(item);
            Assert.NotNull(copy);
            var stored = (await harness.Store.GetAsync(item.IncidentId))!;
            foreach (var property in properties)
            {
                Assert.True(Equals(property.GetValue(stored), property.GetValue(copy)),
                    $"{property.Name}: stored {property.GetValue(stored)}, copy {property.GetValue(copy)}");
            }
        }
    }

    [Fact]
    public void A_copy_that_does_not_describe_the_items_incident_is_not_used()
    {
        var alert = PipelineHarness.Alert("shop", "worker", fingerprint: "0123456789abcdef");
        var json = JsonSerializer.Serialize(alert, AlertJsonContext.Default.NormalizedAlert);
        var claim = new ClaimCopy("W/\"datetime'2026-11-26T03%3A00%3A00Z'\"", PipelineHarness.Start, json);
        Assert.NotNull(AlertIngestor.ClaimedRecord(new WorkItem(alert.IncidentId, Claim: claim)));
        Assert.Null(AlertIngestor.ClaimedRecord(new WorkItem("0" + alert.IncidentId[1..], Claim: claim)));
        Assert.Null(AlertIngestor.ClaimedRecord(new WorkItem(alert.IncidentId, Claim: claim with { ETag = "" })));
        Assert.Null(AlertIngestor.ClaimedRecord(new WorkItem(alert.IncidentId, Claim: claim with { AlertJson = "{not json" })));
        var unmapped = JsonSerializer.Serialize(alert with { Target = null }, AlertJsonContext.Default.NormalizedAlert);
        Assert.Null(AlertIngestor.ClaimedRecord(new WorkItem(alert.IncidentId, Claim: claim with { AlertJson = unmapped })));
        Assert.Null(AlertIngestor.ClaimedRecord(new WorkItem(alert.IncidentId)));
    }

    [Fact]
    public void Messages_carry_copies_only_while_they_fit_the_queue()
    {
        // Alerts up to the ingest limit, with characters JSON escapes (a quote is 2 bytes, a control character 6).
        var sizes = Gen.Frequency((3, Gen.Int[100, 3_000]), (1, Gen.Int[0, AlertIngestor.MaxAlertChars]));
        var texts = from size in sizes from c in Gen.Char["a\"\n\u00e9\u4e2d"] select new string(c, size);
        var messages = Gen.Int[1, WorkMessage.MaxItems].SelectMany(n => texts.Array[n, n]);
        var pcg = new PCG(20, 20261201);
        for (var i = 0; i < 100; i++)
        {
            var alertJsons = messages.Generate(pcg, null, out Size _);
            var items = alertJsons.Select((text, k) => new WorkItem($"{k:D32}", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                Claim: new ClaimCopy("W/\"datetime'2026-11-26T03%3A00%3A00.1234567Z'\"", PipelineHarness.Start, text))).ToList();
            var message = WorkMessage.Carrying(items);
            var bytes = Encoding.UTF8.GetByteCount(message.ToJson());
            Assert.True(bytes <= WorkMessage.MaxCarryingBytes, $"{bytes} bytes for alerts of {string.Join(", ", alertJsons.Select(t => t.Length))} characters");
            Assert.Equal(items.Select(x => x.IncidentId), WorkMessage.Parse(message.ToJson()).Items.Select(x => x.IncidentId));
            // A copy is dropped only where keeping it would have passed the limit.
            for (var k = 0; k < items.Count; k++)
            {
                if (message.Items[k].Claim is null)
                {
                    var kept = message.Items.Select((x, j) => j == k ? items[k] : x).ToList();
                    Assert.True(Encoding.UTF8.GetByteCount(new WorkMessage(kept).ToJson()) > WorkMessage.MaxCarryingBytes, $"copy {k} dropped needlessly");
                }
                else
                {
                    Assert.Equal(items[k], message.Items[k]);
                }
            }
        }
    }

    [Fact]
    public async Task A_resolution_recorded_after_the_claim_is_kept_when_the_copy_is_processed()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "crashloop-no-change.yaml", Policy, FixedDiagnoser.Of(FailureClass.CrashLoop));
        var ingestor = harness.Services.GetRequiredService<AlertIngestor>();
        var firing = PipelineHarness.Alert("shop", "worker", fingerprint: "1111222233334444");
        await ingestor.IngestAsync([firing]);
        await ingestor.IngestAsync([firing with { Status = AlertStatus.Resolved, EndsAt = PipelineHarness.Start.AddMinutes(1) }]);

        await harness.DrainAsync();

        var incident = (await harness.Store.GetAsync(firing.IncidentId))!;
        Assert.Equal(PipelineHarness.Start.AddMinutes(1), incident.ResolvedAt);
        Assert.Equal(IncidentState.Verifying, incident.State);
        Assert.True(harness.Store.ConflictRetries >= 1, "the copy's ETag was stale: its write must have been re-read and re-applied");
    }

    [Fact]
    public async Task An_incident_decided_since_its_claim_is_not_decided_again_from_the_copy()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "crashloop-no-change.yaml", Policy, FixedDiagnoser.Of(FailureClass.CrashLoop));
        var ingestor = harness.Services.GetRequiredService<AlertIngestor>();
        var queue = harness.Services.GetRequiredService<WorkQueue>();
        var alert = PipelineHarness.Alert("shop", "worker", fingerprint: "5555666677778888");
        await ingestor.IngestAsync([alert]);
        var message = Assert.Single((await queue.Queue.PeekMessagesAsync(32)).Value).Body.ToString();
        var processor = harness.Services.GetRequiredService<WorkItemProcessor>();

        // The sweep's re-queue (an item without the copy) acted first; then the first delivery's item, with its copy.
        var first = await processor.ProcessAsync(new WorkMessage([new WorkItem(alert.IncidentId)]).ToJson(), dequeueCount: 1);
        Assert.Equal(IncidentState.Verifying, Assert.Single(first).State);
        var acted = (await harness.Store.GetAsync(alert.IncidentId))!;
        var patches = harness.Cluster.Requests.Count(r => r.IsMutating);

        var again = await processor.ProcessAsync(message, dequeueCount: 1);

        Assert.Equal(IncidentState.Verifying, Assert.Single(again).State);
        Assert.Equal(patches, harness.Cluster.Requests.Count(r => r.IsMutating));
        var after = (await harness.Store.GetAsync(alert.IncidentId))!;
        Assert.Equal((acted.State, acted.ETag, acted.ActedAt), (after.State, after.ETag, after.ActedAt));
    }
}
