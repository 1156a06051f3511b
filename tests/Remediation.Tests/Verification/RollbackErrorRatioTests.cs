using Remediation.Actions;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Verification;

/// <summary>
/// A rollback is verified on the workload's error ratio too, when it can be read: found from outside, a rollback
/// Succeeded on "rollout complete" while its 5xx stayed at 40 %. Without a metrics source it rests on the rollout alone.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RollbackErrorRatioTests(AzuriteFixture storage)
{
    [Fact]
    public async Task A_rollback_whose_errors_stay_above_the_bound_is_not_verified_until_they_fall()
    {
        var health = new SettableHealthSignal(0.4);
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", ScheduledVerificationTests.Policy, healthSignal: health);
        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "checkout"));
        Assert.Equal(IncidentState.Verifying, incident.State);
        Assert.Equal(0.05, System.Text.Json.JsonSerializer.Deserialize(incident.PlanJson!, ActionJsonContext.Default.ActionPlan)!.Verify.MaxErrorRatio);

        // Past the soak, the rollout complete: 40 % errors still, so not verified.
        await harness.AdvanceAsync(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5));
        await harness.SweepAsync();
        var held = (await harness.Store.GetAsync(incident.IncidentId))!;
        Assert.Equal(IncidentState.Verifying, held.State);

        // The errors fall under the bound: verified, saying so.
        health.Ratio = 0.01;
        await harness.AdvanceAsync(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));
        await harness.SweepAsync();
        var done = (await harness.Store.GetAsync(incident.IncidentId))!;
        Assert.Equal(IncidentState.Succeeded, done.State);
        Assert.Contains("error ratio of workload checkout 1.00", done.OutcomeReason, StringComparison.Ordinal);
        Assert.Contains("(bound 5.00", done.OutcomeReason, StringComparison.Ordinal);
    }
}
