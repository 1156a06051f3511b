using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Remediation.Actions;
using Remediation.ClusterSimulator;
using Remediation.Hosting;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Remediation.Verification;

namespace Remediation.Tests.Verification;

/// <summary>
/// A remediation is verified by checks scheduled on the work queue (delayed messages), at the end of its soak and then
/// every poll interval, so it does not wait for the sweep.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ScheduledVerificationTests(AzuriteFixture storage)
{
    /// <summary>Roll back bad rollouts, verified after a 2 s soak (also used by the crash-recovery tests).</summary>
    internal const string Policy = """
        allow:
          namespaces: [shop]
        limits:
          verifySoak: 2s
          verifyDeadline: 2m
        rules:
          - name: roll-back-bad-rollouts
            when:
              classes: [BadRollout]
            action: rollback
        """;

    [Fact]
    public async Task Rollback_is_verified_by_its_scheduled_check_with_the_sweep_off()
    {
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await cluster.ReconcileAsync();
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, cluster.BaseAddress, Policy, new Dictionary<string, string?>
        {
            // The sweep runs once at start-up (nothing to do) and not again during the test.
            ["Remediation:Host:SweepInterval"] = "01:00:00",
            ["Remediation:VerifyPollInterval"] = "00:00:01",
        });
        var incidentId = await host.PostAlertmanagerAsync("alertmanager/kube-pod-crashlooping.json");

        var incident = await host.WaitForStateAsync(incidentId, TimeSpan.FromSeconds(45), IncidentState.Succeeded, IncidentState.Failed);
        Assert.Equal(IncidentState.Succeeded, incident.State);
        Assert.StartsWith("verified: rollout complete", incident.OutcomeReason, StringComparison.Ordinal);
        // Not before the soak ended.
        Assert.True(incident.CompletedAt - incident.ActedAt >= TimeSpan.FromSeconds(2), $"verified {incident.CompletedAt - incident.ActedAt} after acting");
        Assert.Single(cluster.Requests, r => r.IsMutating);
    }

    [Fact]
    public void Next_check_is_at_the_end_of_the_soak_then_every_poll_interval_and_never_after_the_deadline()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 3, 0, 0, TimeSpan.Zero));
        var options = new RemediationOptions { VerifyPollInterval = TimeSpan.FromSeconds(5) };
        var scheduler = new VerificationScheduler(null!, options, time, NullLogger<VerificationScheduler>.Instance);
        var spec = new VerificationSpec { Soak = TimeSpan.FromSeconds(30), Deadline = TimeSpan.FromSeconds(60) };
        var incident = new IncidentRecord { PartitionKey = "i1", ActedAt = time.GetUtcNow(), VerifyDeadline = time.GetUtcNow() + spec.Deadline };

        Assert.Equal(TimeSpan.FromSeconds(30.25), scheduler.NextDelay(incident, spec));
        time.Advance(TimeSpan.FromSeconds(30.25));
        Assert.Equal(TimeSpan.FromSeconds(5), scheduler.NextDelay(incident, spec));
        time.Advance(TimeSpan.FromSeconds(27));
        // 2.75 s to the deadline: checked right after it, not a poll interval later.
        Assert.Equal(TimeSpan.FromSeconds(3), scheduler.NextDelay(incident, spec));
        time.Advance(TimeSpan.FromSeconds(2.9));
        Assert.Equal(VerificationScheduler.MinDelay, scheduler.NextDelay(incident, spec));
    }
}
