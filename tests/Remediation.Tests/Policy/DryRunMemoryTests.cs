using Microsoft.Extensions.DependencyInjection;
using Remediation.Diagnosis;
using Remediation.Ingest;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Policy;

/// <summary>
/// A dry run is never decided from memory: after a live instance acted on a Deployment (its ledger row says cooldown), an
/// instance with <c>dryRun: true</c> on the same table claims and queues the next alerts naming it (none refused at the
/// claim, also once it has read the cooldown itself), diagnoses them and mutates nothing.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DryRunMemoryTests(AzuriteFixture storage)
{
    [Fact]
    public async Task A_dry_run_after_a_live_action_is_diagnosed_not_refused_from_memory()
    {
        var table = "dry" + Guid.NewGuid().ToString("N")[..12];
        await using var live = await PipelineHarness.StartAsync(storage.ConnectionString, "crashloop-no-change.yaml", PipelineHarness.RestartCrashLoopsPolicy,
            FixedDiagnoser.Of(FailureClass.CrashLoop), settings: new Dictionary<string, string?> { ["Remediation:Storage:IncidentsTable"] = table });
        var acted = await live.FireAsync(PipelineHarness.Alert("shop", "worker", startsAt: live.Time.GetUtcNow(), fingerprint: "live"));
        Assert.Equal(IncidentState.Verifying, acted.State);

        await using var dry = await PipelineHarness.StartAsync(storage.ConnectionString, "crashloop-no-change.yaml", "dryRun: true\n" + PipelineHarness.RestartCrashLoopsPolicy,
            FixedDiagnoser.Of(FailureClass.CrashLoop), time: live.Time, settings: new Dictionary<string, string?> { ["Remediation:Storage:IncidentsTable"] = table });
        var ingestor = dry.Services.GetRequiredService<AlertIngestor>();
        foreach (var n in new[] { 1, 2 })
        {
            var alert = PipelineHarness.Alert("shop", "worker", startsAt: live.Time.GetUtcNow() + TimeSpan.FromSeconds(n), fingerprint: "dry" + n);
            var result = await ingestor.IngestAsync([alert]);
            Assert.Equal((1, 0), (result.Accepted, result.Refused));
            await dry.DrainAsync();
            var incident = (await dry.Store.GetAsync(alert.IncidentId))!;
            Assert.Equal(nameof(FailureClass.CrashLoop), incident.DiagnosisClass);
            Assert.DoesNotContain("(not diagnosed)", incident.OutcomeReason ?? "", StringComparison.Ordinal);
        }
        Assert.DoesNotContain(dry.Cluster.Requests, r => r.IsMutating);
    }
}
