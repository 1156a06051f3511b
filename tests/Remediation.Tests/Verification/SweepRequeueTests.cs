using Microsoft.Extensions.DependencyInjection;
using Remediation.Ingest;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Remediation.Verification;

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
    public async Task Sweep_removes_the_in_flight_rows_of_concluded_or_missing_incidents_and_keeps_those_under_way()
    {
        var policy = File.ReadAllText(Path.Combine(RepoPaths.Root, "examples", "policy.yaml"));
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "healthy.yaml", policy);
        var now = harness.Time.GetUtcNow();
        // Concluded, its removal lost; still counting toward the cap until its expiry, which has not come.
        await harness.Store.TryClaimAsync(new IncidentRecord { PartitionKey = "concluded", State = IncidentState.Succeeded, ReceivedAt = now });
        await harness.InFlight.AddInFlightAsync("concluded", now + TimeSpan.FromMinutes(10));
        // Under way: awaiting approval until a deadline that has not come; a dry run acting (counts toward no cap).
        await harness.Store.TryClaimAsync(new IncidentRecord { PartitionKey = "awaiting", State = IncidentState.AwaitingApproval, ReceivedAt = now, ApprovalDeadline = now + TimeSpan.FromHours(1) });
        await harness.InFlight.AddInFlightAsync("awaiting", now + TimeSpan.FromMinutes(10));
        await harness.Store.TryClaimAsync(new IncidentRecord { PartitionKey = "dry-run", State = IncidentState.Acting, ReceivedAt = now, ActedAt = now });
        await harness.InFlight.AddInFlightAsync("dry-run", now);
        // A registration with no incident at all.
        await harness.InFlight.AddInFlightAsync("missing", now + TimeSpan.FromMinutes(10));
        Assert.Equal(3, await harness.InFlight.CountInFlightAsync("none", now));

        var swept = await harness.SweepAsync();

        Assert.Equal(0, swept.Requeued);
        Assert.Equal(["awaiting", "dry-run"], (await harness.InFlight.ListInFlightAsync()).Select(r => r.IncidentId).Order(StringComparer.Ordinal));
        Assert.Equal(1, await harness.InFlight.CountInFlightAsync("none", harness.Time.GetUtcNow()));
        Assert.Equal(IncidentState.AwaitingApproval, (await harness.Store.GetAsync("awaiting"))!.State);
    }

    [Fact]
    public async Task With_work_queued_the_sweep_checks_the_remediations_in_flight_and_scans_for_lost_work_once_per_full_sweep_interval()
    {
        const string Policy = """
            allow:
              namespaces: [shop]
            limits:
              verifySoak: 30m
              verifyDeadline: 2h
            rules:
              - name: restart-crash-loops
                when:
                  classes: [CrashLoop]
                action: restart
            """;
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "crashloop-no-change.yaml", Policy, FixedDiagnoser.Of(Remediation.Diagnosis.FailureClass.CrashLoop));
        var acted = await harness.FireAsync(PipelineHarness.Alert("shop", "worker", startsAt: harness.Time.GetUtcNow(), fingerprint: "acted"));
        Assert.Equal(IncidentState.Verifying, acted.State);
        var queue = harness.Services.GetRequiredService<WorkQueue>();
        // Its scheduled checks are lost, and so are the work items of more incidents than one message can carry (on
        // another workload: alerts on the one just acted on would be refused at their claim, never queued).
        await queue.Queue.ClearMessagesAsync();
        var lost = Enumerable.Range(0, WorkMessage.MaxItems + 5)
            .Select(i => PipelineHarness.Alert("shop", "other", startsAt: harness.Time.GetUtcNow(), fingerprint: $"lost-{i}")).ToList();
        await harness.Services.GetRequiredService<AlertIngestor>().IngestAsync(lost);
        await queue.Queue.ClearMessagesAsync();
        // One message still queued: work is flowing.
        await queue.EnqueueAsync(new WorkMessage([new WorkItem("unrelated")]));

        // The first sweep of a process scans; nothing is stale yet.
        Assert.Equal(new SweepResult(1, 0, 0, 0), await harness.SweepAsync());
        harness.Time.Advance(harness.Services.GetRequiredService<RemediationOptions>().RequeueAfter + TimeSpan.FromSeconds(1));
        // Within the interval the sweep reads the incidents in flight only: the remediation is checked (found through
        // its registration), the Received incidents are not seen.
        Assert.Equal(new SweepResult(1, 0, 0, 0), await harness.SweepAsync());
        harness.Time.Advance(harness.Services.GetRequiredService<RemediationOptions>().FullSweepInterval);
        // Then it scans: more are stale than the backlog can hold, so they are re-queued.
        Assert.Equal(new SweepResult(1, 0, 0, lost.Count), await harness.SweepAsync());
        Assert.Equal(IncidentState.Verifying, (await harness.Store.GetAsync(acted.IncidentId))!.State);
        foreach (var alert in lost)
        {
            Assert.Equal(harness.Time.GetUtcNow(), (await harness.Store.GetAsync(alert.IncidentId))!.RequeuedAt);
        }
    }
}
