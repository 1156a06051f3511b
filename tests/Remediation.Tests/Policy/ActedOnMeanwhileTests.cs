using Microsoft.Extensions.DependencyInjection;
using Remediation.Alerts;
using Remediation.Diagnosis;
using Remediation.Ingest;
using Remediation.Pipeline;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Policy;

/// <summary>
/// Two incidents on one Deployment processed at once (new incidents of one target take turns in an instance, see
/// <see cref="TargetTurns"/>; an approved or resumed one acts without waiting): the second passes the safety gate's check,
/// and while it is being diagnosed the first reserves the target and acts. What the second then finds (nothing failing, the restart's doing) is
/// not a case for a person: it is refused for the cooldown, as it would have been a moment later, not escalated (nor
/// recorded as healthy). Without the action meanwhile, the same findings are recorded as found.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ActedOnMeanwhileTests(AzuriteFixture storage)
{
    [Theory]
    [InlineData(FailureClass.Unknown, true, IncidentState.Refused)]
    [InlineData(FailureClass.Healthy, true, IncidentState.Refused)]
    [InlineData(FailureClass.Unknown, false, IncidentState.Escalated)]
    [InlineData(FailureClass.Healthy, false, IncidentState.NoAction)]
    public async Task An_incident_diagnosed_while_another_acts_on_its_target_is_refused_for_the_cooldown(FailureClass found, bool firstActsMeanwhile, IncidentState expected)
    {
        var diagnoser = new InterleavingDiagnoser();
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "crashloop-no-change.yaml", PipelineHarness.RestartCrashLoopsPolicy, diagnoser);
        var ingestor = harness.Services.GetRequiredService<AlertIngestor>();
        var pipeline = harness.Services.GetRequiredService<RemediationPipeline>();
        var first = PipelineHarness.Alert("shop", "worker", startsAt: harness.Time.GetUtcNow(), fingerprint: "first");
        var second = PipelineHarness.Alert("shop", "worker", startsAt: harness.Time.GetUtcNow() + TimeSpan.FromSeconds(1), fingerprint: "second");
        Assert.Equal(2, (await ingestor.IngestAsync([second, first])).Accepted);
        diagnoser.Found["first"] = FailureClass.CrashLoop;
        diagnoser.Found["second"] = found;
        if (firstActsMeanwhile)
        {
            // While the second is diagnosed (it has passed the gate's check), the first is processed to its action by a
            // worker of the same instance that does not wait for the target's turn (the second holds it), as an approved or
            // resumed incident acts: the instance's memory of the reservation is shared, the turn is not taken.
            var withoutTurns = ActivatorUtilities.CreateInstance<RemediationPipeline>(harness.Services, new TargetTurns());
            diagnoser.During["second"] = () => withoutTurns.ProcessAsync(new WorkItem(first.IncidentId));
        }

        await pipeline.ProcessAsync(new WorkItem(second.IncidentId));

        var incident = (await harness.Store.GetAsync(second.IncidentId))!;
        Assert.Equal(expected, incident.State);
        if (firstActsMeanwhile)
        {
            Assert.Equal(IncidentState.Verifying, (await harness.Store.GetAsync(first.IncidentId))!.State);
            Assert.Contains("cooldown", incident.OutcomeReason, StringComparison.Ordinal);
            Assert.Single(harness.Cluster.Requests, r => r.IsMutating);
        }
        else
        {
            Assert.DoesNotContain(harness.Cluster.Requests, r => r.IsMutating);
        }
    }

    /// <summary>Answers a class per alert fingerprint, after running what <see cref="During"/> holds for it.</summary>
    private sealed class InterleavingDiagnoser : IDiagnoser
    {
        public Dictionary<string, FailureClass> Found { get; } = [];
        public Dictionary<string, Func<Task>> During { get; } = [];

        public async Task<DiagnosisResult> DiagnoseAsync(NormalizedAlert alert, WorkloadTarget target, CancellationToken cancellationToken = default)
        {
            if (During.Remove(alert.Fingerprint, out var meanwhile))
            {
                await meanwhile();
            }
            var found = Found[alert.Fingerprint];
            return new DiagnosisResult { Class = found, Target = target, Component = target.ToString(), Confidence = 0.9, Summary = $"{found} (for the test)" };
        }
    }
}
