using Microsoft.Extensions.DependencyInjection;
using Remediation.Ingest;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Verification;

/// <summary>
/// An incident claimed but never queued (the process died in between) is re-queued by the sweep after RequeueAfter,
/// once per interval, and then processed; the sweep reads few columns and its update loses none of the others.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SweepRequeueTests(AzuriteFixture storage)
{
    [Fact]
    public async Task Claimed_incident_whose_work_item_was_lost_is_requeued_once_and_processed()
    {
        var policy = File.ReadAllText(Path.Combine(RepoPaths.Root, "examples", "policy.yaml"));
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", policy);
        var alert = PipelineHarness.Alert("shop", "checkout");
        await harness.Services.GetRequiredService<AlertIngestor>().IngestAsync([alert]);
        var queue = harness.Services.GetRequiredService<WorkQueue>();
        await queue.Queue.ClearMessagesAsync();

        // Not yet: the work item may still be on its way.
        Assert.Equal(0, (await harness.SweepAsync()).Requeued);
        harness.Time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(1, (await harness.SweepAsync()).Requeued);
        // Re-queued at most once per interval.
        Assert.Equal(0, (await harness.SweepAsync()).Requeued);

        var marked = (await harness.Store.GetAsync(alert.IncidentId))!;
        Assert.Equal(harness.Time.GetUtcNow(), marked.RequeuedAt);
        Assert.Equal(IncidentState.Received, marked.State);
        Assert.False(string.IsNullOrEmpty(marked.AlertJson));
        Assert.Equal("checkout", marked.Workload);

        await harness.DrainAsync();
        var processed = (await harness.Store.GetAsync(alert.IncidentId))!;
        Assert.NotEqual(IncidentState.Received, processed.State);
        Assert.Equal("rollback", processed.Action);
    }

    [Fact]
    public async Task Sweep_clears_in_flight_rows_whose_removal_was_lost_once_they_expire()
    {
        var policy = File.ReadAllText(Path.Combine(RepoPaths.Root, "examples", "policy.yaml"));
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "healthy.yaml", policy);
        var now = harness.Time.GetUtcNow();
        await harness.Store.AddInFlightAsync("lost-removal", now + TimeSpan.FromMinutes(2));
        await harness.Store.AddInFlightAsync("still-acting", now + TimeSpan.FromMinutes(10));
        Assert.Equal(2, await harness.Store.CountInFlightAsync("none", now));

        harness.Time.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(1, await harness.Store.CountInFlightAsync("none", harness.Time.GetUtcNow()));
        await harness.SweepAsync();
        var left = new List<string>();
        await foreach (var row in harness.Store.Table.QueryAsync<Azure.Data.Tables.TableEntity>($"PartitionKey eq '{IncidentStore.InFlightPartition}'"))
        {
            left.Add(row.RowKey);
        }
        Assert.Equal(["still-acting"], left);
    }
}
