using Microsoft.Extensions.DependencyInjection;
using Remediation.Alerts;
using Remediation.Diagnosis;
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
