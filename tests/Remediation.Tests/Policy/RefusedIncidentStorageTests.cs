using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Diagnosis;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Policy;

/// <summary>
/// What an alert refused by its target's own limits costs in storage: no query (a query on a partition is a scan of
/// the table on the storage emulator, and a storm is mostly such alerts) and two reads (its workload's group row and its
/// target's ledger row; its own row comes with its work item), none while the ledger remembers its target in cooldown and
/// the group row its lead. The remediations in flight are not counted for a target the ledger refuses, an incident that
/// never led a group reads no members when it ends, and the lead of a group no alert joins before diagnosis (not a
/// cascade's) is not read. Within both memories an alert naming its Deployment is refused at its claim, in one insert.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RefusedIncidentStorageTests(AzuriteFixture storage)
{
    private const string Policy = PipelineHarness.RestartCrashLoopsPolicy;

    [Fact]
    public async Task Alert_refused_for_cooldown_is_recorded_without_one_table_query()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "crashloop-no-change.yaml", Policy, FixedDiagnoser.Of(FailureClass.CrashLoop));
        var acted = await harness.FireAsync(PipelineHarness.Alert("shop", "worker", startsAt: harness.Time.GetUtcNow(), fingerprint: "first"));
        Assert.Equal(IncidentState.Verifying, acted.State);

        // The reservation put the target in cooldown and the lead's group row was written by this process: the next alert
        // naming the Deployment is refused at its claim.
        var next = await harness.Services.GetRequiredService<Remediation.Ingest.AlertIngestor>().IngestAsync(
            [PipelineHarness.Alert("shop", "worker", startsAt: harness.Time.GetUtcNow() + TimeSpan.FromSeconds(1), fingerprint: "next")]);
        Assert.Equal((0, 1), (next.Accepted, next.Refused));
        // Once both memories have expired, an alert is decided by the worker from what it reads.
        harness.Time.Advance(Remediation.Policy.TargetLedger.CooldownMemo + TimeSpan.FromSeconds(1));

        var metrics = harness.Services.GetRequiredService<RemediationMetrics>();
        var requests = new List<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, metrics.Meter) && instrument.Name == "remediation.storage.requests")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            var t = tags.ToArray().ToDictionary(kv => kv.Key, kv => kv.Value as string);
            lock (requests)
            {
                requests.Add($"{t["service"]}:{t["operation"]}");
            }
        });
        listener.Start();

        var second = PipelineHarness.Alert("shop", "worker", startsAt: harness.Time.GetUtcNow() + TimeSpan.FromSeconds(30), fingerprint: "second");
        await harness.Services.GetRequiredService<Remediation.Ingest.AlertIngestor>().IngestAsync([second]);
        await harness.DrainAsync();

        string[] seen;
        lock (requests)
        {
            seen = [.. requests];
            requests.Clear();
        }
        // Within the ledger's memo of a target in cooldown, the next alert of the target does not read the ledger again.
        var third = PipelineHarness.Alert("shop", "worker", startsAt: harness.Time.GetUtcNow() + TimeSpan.FromSeconds(31), fingerprint: "third");
        var thirdResult = await harness.Services.GetRequiredService<Remediation.Ingest.AlertIngestor>().IngestAsync([third]);
        await harness.DrainAsync();
        listener.Dispose();
        string[] seenThird;
        lock (requests)
        {
            seenThird = [.. requests];
        }

        foreach (var id in new[] { second.IncidentId, third.IncidentId })
        {
            var refused = (await harness.Store.GetAsync(id))!;
            Assert.Equal(IncidentState.Refused, refused.State);
            Assert.Contains("cooldown", refused.OutcomeReason, StringComparison.Ordinal);
        }
        Assert.NotEmpty(seen);
        Assert.DoesNotContain("table:query", seen);
        Assert.DoesNotContain("table:query", seenThird);
        // Its workload's group row and its target's ledger row: its own row is the claim its work item carries, and the
        // group's lead (an ordinary incident, which no alert joins before diagnosis) is not read.
        Assert.Equal(2, seen.Count(r => r == "table:read"));
        // The refusal is written as the columns it changes (a conditional merge over the claim), not the whole row again.
        Assert.Equal(1, seen.Count(r => r == "table:merge"));
        Assert.DoesNotContain("table:replace", seen);
        // Within both memos the claim itself is the refusal: one insert of the summary row in its final state, no work
        // item, nothing read, no intent or outcome rows.
        Assert.Equal((0, 1), (thirdResult.Accepted, thirdResult.Refused));
        Assert.Equal(["table:insert"], seenThird.Where(r => r.StartsWith("table:", StringComparison.Ordinal)));
        Assert.DoesNotContain("queue:send", seenThird);

        // An alert naming a pod of the workload needs its owner read from the cluster: it is queued, never refused at its
        // claim, and the worker refuses it from the same memory once it has resolved the owner.
        var pod = harness.Cluster.ListObjects("pods", "shop").Select(p => p["metadata"]!["name"]!.GetValue<string>()).First(n => n.StartsWith("worker-", StringComparison.Ordinal));
        var fourth = PipelineHarness.Alert("shop", "worker", startsAt: harness.Time.GetUtcNow() + TimeSpan.FromSeconds(32), fingerprint: "fourth") with
        {
            Target = new Remediation.Alerts.WorkloadTarget("shop", pod, Remediation.Alerts.WorkloadKinds.Pod),
        };
        var fourthResult = await harness.Services.GetRequiredService<Remediation.Ingest.AlertIngestor>().IngestAsync([fourth]);
        Assert.Equal((1, 0), (fourthResult.Accepted, fourthResult.Refused));
        await harness.DrainAsync();
        var byWorker = (await harness.Store.GetAsync(fourth.IncidentId))!;
        Assert.Equal((IncidentState.Refused, "worker"), (byWorker.State, byWorker.Workload));
        Assert.EndsWith("(not diagnosed)", byWorker.OutcomeReason, StringComparison.Ordinal);
    }
}
