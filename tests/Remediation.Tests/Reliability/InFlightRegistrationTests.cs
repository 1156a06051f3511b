using Microsoft.Extensions.DependencyInjection;
using Remediation.Diagnosis;
using Remediation.Ingest;
using Remediation.Pipeline;
using Remediation.Policy;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Reliability;

/// <summary>
/// A remediation's registration in flight (its place under the concurrency cap, and the sweep's index of the work under
/// way) is written while its intent row is, and both land before anything is mutated. When the registration fails and
/// the intent was written, nothing is mutated; the work item's retry resumes from the intent and registers again before
/// it acts, so the action never runs uncounted.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class InFlightRegistrationTests(AzuriteFixture storage)
{
    [Fact]
    public async Task A_registration_that_failed_beside_its_intent_is_made_again_before_the_resumed_action()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "crashloop-no-change.yaml", PipelineHarness.RestartCrashLoopsPolicy,
            FixedDiagnoser.Of(FailureClass.CrashLoop));
        var registrations = new FirstRegistrationFails(harness.InFlight);
        var gate = ActivatorUtilities.CreateInstance<SafetyGate>(harness.Services, (IInFlightRemediations)registrations);
        var pipeline = ActivatorUtilities.CreateInstance<RemediationPipeline>(harness.Services, gate);
        var alert = PipelineHarness.Alert("shop", "worker");
        Assert.Equal(1, (await harness.Services.GetRequiredService<AlertIngestor>().IngestAsync([alert])).Accepted);

        await Assert.ThrowsAsync<TransientDependencyException>(() => pipeline.ProcessAsync(new WorkItem(alert.IncidentId)));

        Assert.Equal(1, registrations.Failed);
        Assert.NotNull(await harness.Store.GetStepAsync(alert.IncidentId, IncidentStepRecord.Intent));
        Assert.Equal(IncidentState.Acting, (await harness.Store.GetAsync(alert.IncidentId))!.State);
        Assert.DoesNotContain(harness.Cluster.Requests, r => r.IsMutating);
        Assert.DoesNotContain(await harness.InFlight.ListInFlightAsync(), r => r.IncidentId == alert.IncidentId);

        var resumed = await pipeline.ProcessAsync(new WorkItem(alert.IncidentId));

        Assert.Equal(IncidentState.Verifying, resumed.State);
        var registration = Assert.Single(await harness.InFlight.ListInFlightAsync(), r => r.IncidentId == alert.IncidentId);
        Assert.True(registration.CountsUntil > harness.Time.GetUtcNow(), $"registered until {registration.CountsUntil:O}");
        Assert.Equal(1, await harness.InFlight.CountInFlightAsync("another incident", harness.Time.GetUtcNow()));
        Assert.Single(harness.Cluster.Requests, r => r.IsMutating);
    }

    /// <summary>The in-flight table, whose first registration fails as storage does when it is unavailable.</summary>
    private sealed class FirstRegistrationFails(InFlightTable table) : IInFlightRemediations
    {
        public int Failed { get; private set; }

        public async Task AddInFlightAsync(string incidentId, DateTimeOffset countsUntil, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            if (Failed == 0)
            {
                Failed = 1;
                throw new TransientDependencyException("storage", "the in-flight table is unavailable");
            }
            await table.AddInFlightAsync(incidentId, countsUntil, cancellationToken);
        }

        public Task RemoveInFlightAsync(string incidentId, CancellationToken cancellationToken = default) => table.RemoveInFlightAsync(incidentId, cancellationToken);

        public Task<int> CountInFlightAsync(string exceptIncidentId, DateTimeOffset now, CancellationToken cancellationToken = default) =>
            table.CountInFlightAsync(exceptIncidentId, now, cancellationToken);

        public Task<IReadOnlyList<InFlightRegistration>> ListInFlightAsync(CancellationToken cancellationToken = default) => table.ListInFlightAsync(cancellationToken);

        public Task<bool> TryRemoveInFlightAsync(InFlightRegistration registration, CancellationToken cancellationToken = default) =>
            table.TryRemoveInFlightAsync(registration, cancellationToken);
    }
}
