using Remediation.Diagnosis;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.ServiceGraph;

/// <summary>
/// A victim's alert that arrives after its culprit's remediation ended (Alertmanager's group wait, a rule's `for`): within
/// the culprit's cooldown it joins that lead and is closed at once with its outcome, and no second lead is made; after the
/// cooldown a new lead is derived for the culprit, as for any victim whose culprit has no open lead.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class LateVictimTests(AzuriteFixture storage)
{
    private const string Policy = """
        allow:
          namespaces: [shop]
        limits:
          cooldown: 10m
          verifySoak: 2s
          verifyDeadline: 2m
        rules:
          - name: roll-back-bad-rollouts
            when:
              classes: [BadRollout]
            action: rollback
        """;

    /// <summary>checkout rolled out badly; frontend, its caller, is its victim.</summary>
    private static FixedDiagnoser Diagnoser() => new(target => target.Name == "checkout"
        ? new DiagnosisResult { Class = FailureClass.BadRollout, Target = target, Component = target.ToString(), Confidence = 0.9, Summary = "bad rollout (fixed for the test)" }
        : new DiagnosisResult { Class = FailureClass.Victim, Target = target, Component = "shop/checkout", Confidence = 0.9, Summary = $"{target} is a victim of shop/checkout" });

    [Fact]
    public async Task Victim_arriving_within_the_cooldown_after_its_culprits_lead_ended_joins_it_and_closes_with_its_outcome()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", Policy, Diagnoser());
        var lead = await RemediatedLeadAsync(harness);
        var mutations = harness.Cluster.Requests.Count(r => r.IsMutating);

        await harness.AdvanceAsync(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1));
        var victim = await harness.FireAsync(PipelineHarness.Alert("shop", "frontend", "IstioHigh5xxErrorRate", startsAt: harness.Time.GetUtcNow()));

        victim = (await harness.Store.GetAsync(victim.IncidentId))!;
        Assert.Equal((IncidentState.Victim, lead.IncidentId, nameof(IncidentState.Succeeded)), (victim.State, victim.GroupId, victim.Outcome));
        Assert.True(IncidentGroupClosure.IsClosed(victim), victim.OutcomeReason);
        Assert.Equal(2, (await harness.Store.ListAsync(new IncidentQuery())).Count);
        Assert.Equal(mutations, harness.Cluster.Requests.Count(r => r.IsMutating));
    }

    [Fact]
    public async Task Victim_arriving_after_the_cooldown_gets_a_new_lead_derived_for_its_culprit()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", Policy, Diagnoser());
        var lead = await RemediatedLeadAsync(harness);

        await harness.AdvanceAsync(TimeSpan.FromMinutes(11), TimeSpan.FromMinutes(1));
        var victim = await harness.FireAsync(PipelineHarness.Alert("shop", "frontend", "IstioHigh5xxErrorRate", startsAt: harness.Time.GetUtcNow()));

        victim = (await harness.Store.GetAsync(victim.IncidentId))!;
        Assert.Equal(IncidentState.Victim, victim.State);
        Assert.NotNull(victim.GroupId);
        Assert.NotEqual(lead.IncidentId, victim.GroupId);
        var derived = (await harness.Store.GetAsync(victim.GroupId))!;
        Assert.StartsWith("culprit|", derived.Fingerprint, StringComparison.Ordinal);
        Assert.Equal(("shop", "checkout"), (derived.Namespace, derived.Workload));
    }

    /// <summary>checkout's own alert: rolled back, verified, Succeeded; the lead of checkout's group.</summary>
    private static async Task<IncidentRecord> RemediatedLeadAsync(PipelineHarness harness)
    {
        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "checkout", "KubeDeploymentRolloutBad", startsAt: harness.Time.GetUtcNow()));
        Assert.Equal(IncidentState.Verifying, incident.State);
        await harness.AdvanceAsync(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10));
        await harness.SweepAsync();
        var done = (await harness.Store.GetAsync(incident.IncidentId))!;
        Assert.Equal((IncidentState.Succeeded, "rollback"), (done.State, done.Action));
        return done;
    }
}
