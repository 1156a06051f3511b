using Microsoft.Extensions.DependencyInjection;
using Remediation.Alerts;
using Remediation.Diagnosis;
using Remediation.Incidents;
using Remediation.Ingest;
using Remediation.Pipeline;
using Remediation.Policy;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Incidents;

/// <summary>Every path that ends an incident goes through the one recorder, so each tells the target's circuit breaker.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class IncidentRecorderTests(AzuriteFixture storage)
{
    private static readonly string Policy = File.ReadAllText(Path.Combine(RepoPaths.Root, "examples", "policy.yaml"))
        .Replace("cooldown: 10m", "cooldown: 1s", StringComparison.Ordinal);

    [Fact]
    public async Task Poisoned_work_counts_toward_the_breaker_as_failed_remediations_do()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "crashloop-no-change.yaml", Policy, FixedDiagnoser.Of(FailureClass.CrashLoop));
        var ingestor = harness.Services.GetRequiredService<AlertIngestor>();
        var processor = harness.Services.GetRequiredService<WorkItemProcessor>();
        var ledger = harness.Services.GetRequiredService<TargetLedger>();
        var breakerFailures = PolicyLoader.LoadFile(Path.Combine(RepoPaths.Root, "examples", "policy.yaml")).Limits.BreakerFailures;
        Assert.True(breakerFailures >= 2, $"the example policy opens the breaker after {breakerFailures} failures");

        // N incidents of one target whose work items are poisoned (never processed).
        for (var i = 0; i < breakerFailures; i++)
        {
            var alert = PipelineHarness.Alert("shop", "worker", startsAt: PipelineHarness.Start.AddMinutes(i));
            await ingestor.IngestAsync([alert]);
            await processor.RecordPoisonAsync(new WorkMessage([new WorkItem(alert.IncidentId)]).ToJson(), "work item failed 5 times, moved to the poison queue");
            var poisoned = (await harness.Store.GetAsync(alert.IncidentId))!;
            Assert.Equal(IncidentState.Failed, poisoned.State);
            Assert.Equal(i + 1, (await ledger.GetAsync(new WorkloadTarget("shop", "worker"))).ConsecutiveFailures);
        }

        // The next alert for that target meets an open breaker: escalated, nothing patched.
        var next = await harness.FireAsync(PipelineHarness.Alert("shop", "worker", startsAt: PipelineHarness.Start.AddMinutes(breakerFailures)));
        Assert.Equal(IncidentState.Escalated, next.State);
        Assert.Contains("circuit breaker open", next.OutcomeReason, StringComparison.Ordinal);
        Assert.DoesNotContain(harness.Cluster.Requests, r => r.IsMutating);

        // Another target is untouched by those failures.
        Assert.Equal(0, (await ledger.GetAsync(new WorkloadTarget("shop", "checkout"))).ConsecutiveFailures);
    }

    [Theory]
    [InlineData(FinishKind.Verified)]
    [InlineData(FinishKind.Acted)]
    [InlineData(FinishKind.Poisoned)]
    public async Task A_finish_that_finds_the_incident_concluded_already_removes_its_in_flight_registration(FinishKind kind)
    {
        // The verdict was written (by another worker, or by this one with its answer lost) and its registration was not
        // removed: the late writer, told the row moved on, removes it rather than leaving it to the sweep.
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "healthy.yaml", Policy);
        var recorder = harness.Services.GetRequiredService<IncidentRecorder>();
        var now = harness.Time.GetUtcNow();
        await harness.Store.TryClaimAsync(new IncidentRecord { PartitionKey = "concluded", State = IncidentState.Succeeded, ReceivedAt = now, CompletedAt = now });
        await harness.InFlight.AddInFlightAsync("concluded", now + TimeSpan.FromMinutes(10));
        await harness.Store.TryClaimAsync(new IncidentRecord { PartitionKey = "verifying", State = IncidentState.Verifying, ReceivedAt = now });
        await harness.InFlight.AddInFlightAsync("verifying", now + TimeSpan.FromMinutes(10));

        var late = await recorder.FinishAsync((await harness.Store.GetAsync("concluded"))!, new IncidentFinish(kind, IncidentState.Failed, "late"));
        // A finish that does not apply to an incident still under way keeps its registration.
        var early = await recorder.FinishAsync((await harness.Store.GetAsync("verifying"))!, new IncidentFinish(FinishKind.Unapproved, IncidentState.Refused, "not awaiting approval"));

        Assert.False(late.Written);
        Assert.Equal(IncidentState.Succeeded, late.State);
        Assert.False(early.Written);
        Assert.Equal(IncidentState.Verifying, early.State);
        Assert.Equal(["verifying"], (await harness.InFlight.ListInFlightAsync()).Select(r => r.IncidentId));
        Assert.Equal(IncidentState.Succeeded, (await harness.Store.GetAsync("concluded"))!.State);
    }

    [Fact]
    public async Task A_poisoned_incident_that_concluded_meanwhile_is_neither_moved_back_nor_counted()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "crashloop-no-change.yaml", Policy, FixedDiagnoser.Of(FailureClass.Healthy));
        var processor = harness.Services.GetRequiredService<WorkItemProcessor>();
        var ledger = harness.Services.GetRequiredService<TargetLedger>();
        var alert = PipelineHarness.Alert("shop", "worker");
        var concluded = await harness.FireAsync(alert);
        Assert.Equal(IncidentState.NoAction, concluded.State);

        await processor.RecordPoisonAsync(new WorkMessage([new WorkItem(alert.IncidentId)]).ToJson(), "late poison");

        var after = (await harness.Store.GetAsync(alert.IncidentId))!;
        Assert.Equal(IncidentState.NoAction, after.State);
        Assert.NotEqual("late poison", after.OutcomeReason);
        Assert.Equal(0, (await ledger.GetAsync(new WorkloadTarget("shop", "worker"))).ConsecutiveFailures);
    }
}
