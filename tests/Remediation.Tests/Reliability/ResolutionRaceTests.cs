using System.Diagnostics;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Alerts;
using Remediation.Diagnosis;
using Remediation.Ingest;
using Remediation.Pipeline;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Remediation.Verification;
using Xunit.Abstractions;

namespace Remediation.Tests.Reliability;

/// <summary>
/// A resolved notification posted while its incident is being processed or verified: every writer of the summary row
/// (ingestor, pipeline, verifier, poison handler) writes conditionally on the row it read and re-applies its change on a
/// lost race, so the resolution (ResolvedAt) and the outcome are both kept, whatever the interleaving.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ResolutionRaceTests(AzuriteFixture storage, ITestOutputHelper output)
{
    public const int Trials = 1000;
    public const int PoisonTrials = 200;
    private const int Deployments = 25;

    private const string Policy = """
        allow:
          namespaces: [shop]
        limits:
          cooldown: 0s
          window: 1s
          maxActionsPerWindow: 1000000
          breakerFailures: 1000000
          maxConcurrent: 1000000
          verifySoak: 0s
          verifyDeadline: 10m
        rules:
          - name: restart-crash-loops
            when:
              classes: [CrashLoop]
            action: restart
        """;

    [Fact]
    public async Task Resolution_posted_while_the_incident_is_processed_or_verified_keeps_resolvedAt_and_the_outcome_in_1000_trials()
    {
        await using var harness = await StartAsync();
        var ingestor = harness.Services.GetRequiredService<AlertIngestor>();
        var pipeline = harness.Services.GetRequiredService<RemediationPipeline>();
        var verifier = harness.Services.GetRequiredService<RemediationVerifier>();
        var random = new Random(20261126);
        // Running estimate (ms) of processing + verification, to spread the resolution's start over that window.
        var chainMs = 30.0;
        int whileProcessing = 0, whileVerifying = 0, afterVerdict = 0, conflicted = 0;
        var problems = new List<string>();
        var clock = Stopwatch.StartNew();

        for (var t = 0; t < Trials; t++)
        {
            var firing = PipelineHarness.Alert("shop", ReliabilitySupport.Deployment(t % Deployments), fingerprint: $"resolve-{t}", startsAt: PipelineHarness.Start.AddMinutes(t));
            var resolved = firing with { Status = AlertStatus.Resolved, EndsAt = firing.StartsAt.AddMinutes(3) };
            await ingestor.IngestAsync([firing]);
            var conflictsBefore = harness.Store.ConflictRetries;
            var delay = Jitter(random, chainMs);

            long chainStarted = Stopwatch.GetTimestamp(), processedAt = 0, verifiedAt = 0, resolvedAt = 0;
            var chain = Task.Run(async () =>
            {
                var processed = await pipeline.ProcessAsync(new WorkItem(firing.IncidentId));
                processedAt = Stopwatch.GetTimestamp();
                await harness.Cluster.ReconcileAsync();
                var verified = await verifier.VerifyScheduledAsync(firing.IncidentId);
                verifiedAt = Stopwatch.GetTimestamp();
                return (processed, verified);
            });
            var resolution = Task.Run(async () =>
            {
                await delay();
                await ingestor.IngestAsync([resolved]);
                resolvedAt = Stopwatch.GetTimestamp();
            });
            await Task.WhenAll(chain, resolution);
            var (processedState, verifiedState) = await chain;
            chainMs = (0.9 * chainMs) + (0.1 * Stopwatch.GetElapsedTime(chainStarted, verifiedAt).TotalMilliseconds);

            _ = resolvedAt < processedAt ? whileProcessing++ : resolvedAt < verifiedAt ? whileVerifying++ : afterVerdict++;
            if (harness.Store.ConflictRetries > conflictsBefore)
            {
                conflicted++;
            }

            var incident = (await harness.Store.GetAsync(firing.IncidentId))!;
            var rows = await ReliabilitySupport.RowsAsync(harness.Store.Table, firing.IncidentId);
            var outcomeRow = rows.SingleOrDefault(r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.OutcomeKey);
            if (processedState.State != IncidentState.Verifying || verifiedState.State != IncidentState.Succeeded
                || incident.ResolvedAt != resolved.EndsAt
                || incident.State != IncidentState.Succeeded || incident.Outcome != nameof(IncidentState.Succeeded)
                || incident.OutcomeReason?.StartsWith("verified:", StringComparison.Ordinal) != true
                || incident.CompletedAt is null || incident.ActedAt is null || incident.PlanJson is null || incident.DiagnosisClass != nameof(FailureClass.CrashLoop)
                || rows.Count(r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.Intent) != 1
                || outcomeRow?.GetString(nameof(IncidentStepRecord.Outcome)) != nameof(IncidentState.Succeeded))
            {
                problems.Add($"trial {t}: processed {processedState}, verified {verifiedState}; row {incident.State}/{incident.Outcome} " +
                    $"resolvedAt {incident.ResolvedAt?.ToString("O") ?? "MISSING"} (want {resolved.EndsAt:O}), reason '{incident.OutcomeReason}', " +
                    $"diagnosis {incident.DiagnosisClass}, outcome row {outcomeRow?.GetString(nameof(IncidentStepRecord.Outcome)) ?? "none"}");
            }
        }

        ReliabilitySupport.Report(output,
            $"resolution race: {Trials} trials in {clock.Elapsed.TotalSeconds:0.0}s (≈{chainMs:0} ms of processing + verification each) → " +
            $"resolution recorded while processing {whileProcessing}, while verifying {whileVerifying}, after the verdict {afterVerdict}; " +
            $"trials where a writer lost a race (412) and re-applied its change: {conflicted} ({harness.Store.ConflictRetries} re-reads); problems {problems.Count}");
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(10)));
        // Both orders (and the interleavings that made the old code lose ResolvedAt) happened.
        Assert.True(whileProcessing > 0, "no trial recorded the resolution while the incident was processed");
        Assert.True(whileVerifying + afterVerdict > 0, "no trial recorded the resolution after processing");
        Assert.True(conflicted > 0, "no trial had two writers race on the summary row");
    }

    [Fact]
    public async Task Resolution_racing_the_verifier_and_the_poison_handler_is_kept_and_a_verdict_is_never_overwritten()
    {
        await using var harness = await StartAsync();
        var ingestor = harness.Services.GetRequiredService<AlertIngestor>();
        var pipeline = harness.Services.GetRequiredService<RemediationPipeline>();
        var verifier = harness.Services.GetRequiredService<RemediationVerifier>();
        var processor = harness.Services.GetRequiredService<WorkItemProcessor>();
        var random = new Random(4242);
        const string PoisonReason = "poisoned for the race test";
        int verifierWon = 0, poisonWon = 0, conflicted = 0;
        var problems = new List<string>();
        var clock = Stopwatch.StartNew();

        for (var t = 0; t < PoisonTrials; t++)
        {
            var firing = PipelineHarness.Alert("shop", ReliabilitySupport.Deployment(t % Deployments), fingerprint: $"poison-{t}", startsAt: PipelineHarness.Start.AddMinutes(t));
            var resolved = firing with { Status = AlertStatus.Resolved, EndsAt = firing.StartsAt.AddMinutes(3) };
            await ingestor.IngestAsync([firing]);
            Assert.Equal(IncidentState.Verifying, (await pipeline.ProcessAsync(new WorkItem(firing.IncidentId))).State);
            await harness.Cluster.ReconcileAsync();
            var conflictsBefore = harness.Store.ConflictRetries;

            Func<Task> verifyDelay = Jitter(random, 8), poisonDelay = Jitter(random, 8), resolveDelay = Jitter(random, 8);
            var verify = Task.Run(async () => { await verifyDelay(); return await verifier.VerifyScheduledAsync(firing.IncidentId); });
            var poison = Task.Run(async () => { await poisonDelay(); await processor.RecordPoisonAsync(new WorkMessage([new WorkItem(firing.IncidentId, Verify: true)]).ToJson(), PoisonReason); });
            var resolve = Task.Run(async () => { await resolveDelay(); await ingestor.IngestAsync([resolved]); });
            await Task.WhenAll(verify, poison, resolve);
            var verdict = await verify;
            if (harness.Store.ConflictRetries > conflictsBefore)
            {
                conflicted++;
            }

            var incident = (await harness.Store.GetAsync(firing.IncidentId))!;
            // Whoever wrote first decided; the verifier reports the state it found when it stood down.
            var consistent = incident.State switch
            {
                IncidentState.Succeeded => verdict.State == IncidentState.Succeeded && incident.OutcomeReason!.StartsWith("verified:", StringComparison.Ordinal),
                IncidentState.Failed => verdict.State == IncidentState.Failed && incident.OutcomeReason == PoisonReason,
                _ => false,
            };
            _ = incident.State == IncidentState.Succeeded ? verifierWon++ : poisonWon++;
            if (!consistent || incident.ResolvedAt != resolved.EndsAt || incident.Outcome != incident.State.ToString() || incident.CompletedAt is null)
            {
                problems.Add($"trial {t}: verifier returned {verdict}; row {incident.State}/{incident.Outcome} '{incident.OutcomeReason}', resolvedAt {incident.ResolvedAt?.ToString("O") ?? "MISSING"}");
            }
        }

        ReliabilitySupport.Report(output,
            $"verifier/poison/resolution race: {PoisonTrials} trials in {clock.Elapsed.TotalSeconds:0.0}s → verifier first {verifierWon}, poison handler first {poisonWon}; " +
            $"trials with a lost race re-applied: {conflicted}; problems {problems.Count}");
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(10)));
        Assert.True(verifierWon > 0 && poisonWon > 0, $"both orders: verifier first {verifierWon}, poison first {poisonWon}");
    }

    [Fact]
    public async Task Transaction_from_a_stale_copy_rereads_and_keeps_the_resolution_written_meanwhile()
    {
        var store = await NewStoreAsync();
        var incident = NewIncident();
        Assert.True(await store.TryClaimAsync(incident));
        var pipelineCopy = (await store.GetAsync(incident.IncidentId))!;
        var resolvedAt = PipelineHarness.Start.AddMinutes(2);

        // The resolution lands between the pipeline's read and its write.
        Assert.True((await store.UpdateAsync(incident.IncidentId, r => { r.ResolvedAt = resolvedAt; return true; })).Written);
        var intent = new IncidentStepRecord { PartitionKey = incident.IncidentId, RowKey = IncidentRowKeys.For(IncidentStepRecord.Intent, incident.IncidentId), Worker = "w" };
        var update = await store.TryAddStepAndUpdateAsync(intent, pipelineCopy, r =>
        {
            if (r.State != IncidentState.Received)
            {
                return false;
            }
            r.State = IncidentState.Acting;
            r.Action = "restart";
            return true;
        });

        Assert.Equal(IncidentWriteOutcome.Written, update.Outcome);
        Assert.Equal(1, store.ConflictRetries);
        var row = (await store.GetAsync(incident.IncidentId))!;
        Assert.Equal((IncidentState.Acting, "restart", resolvedAt), (row.State, row.Action, row.ResolvedAt));
        Assert.Equal(row.ETag, update.Record!.ETag);
        Assert.NotNull(await store.GetStepAsync(incident.IncidentId, IncidentStepRecord.Intent));

        // The same step again: another worker got there first; nothing is written, the summary is unchanged.
        var again = await store.TryAddStepAndUpdateAsync(intent, row, r => { r.State = IncidentState.Failed; return true; });
        Assert.Equal(IncidentWriteOutcome.StepExists, again.Outcome);
        Assert.Equal(row.ETag, (await store.GetAsync(incident.IncidentId))!.ETag);
    }

    [Fact]
    public async Task No_writer_clears_resolvedAt_or_moves_a_terminal_state_and_contention_is_bounded()
    {
        var store = await NewStoreAsync();
        var incident = NewIncident();
        incident.State = IncidentState.Succeeded;
        incident.ResolvedAt = PipelineHarness.Start.AddMinutes(1);
        Assert.True(await store.TryClaimAsync(incident));

        // A writer that (wrongly) clears ResolvedAt: the rest of its change is written, ResolvedAt stays.
        var cleared = await store.UpdateAsync(incident.IncidentId, r => { r.ResolvedAt = null; r.TraceParent = "tp"; return true; });
        Assert.True(cleared.Written);
        var row = (await store.GetAsync(incident.IncidentId))!;
        Assert.Equal((incident.ResolvedAt, "tp"), (row.ResolvedAt, row.TraceParent));

        // A late writer cannot move a terminal incident: nothing written.
        var late = await store.UpdateAsync(incident.IncidentId, r => { r.State = IncidentState.Failed; r.OutcomeReason = "late"; return true; });
        Assert.Equal(IncidentWriteOutcome.Declined, late.Outcome);
        var after = (await store.GetAsync(incident.IncidentId))!;
        Assert.Equal((IncidentState.Succeeded, (string?)null, row.ETag), (after.State, after.OutcomeReason, after.ETag));

        // A row that changes under every attempt: re-read and re-applied a bounded number of times, then a transient failure (503/retry).
        var bumps = 0;
        var ex = await Assert.ThrowsAsync<TransientDependencyException>(() => store.UpdateAsync(incident.IncidentId, r =>
        {
            store.Table.UpdateEntity(new TableEntity(r.PartitionKey, r.RowKey) { ["Bump"] = ++bumps }, ETag.All, TableUpdateMode.Merge);
            r.TraceParent = "contended";
            return true;
        }));
        Assert.Equal("storage", ex.Dependency);
        Assert.Equal(IncidentStore.MaxUpdateAttempts, bumps);
        Assert.Equal(IncidentStore.MaxUpdateAttempts, store.ConflictRetries);
        Assert.Equal("tp", (await store.GetAsync(incident.IncidentId))!.TraceParent);

        // A missing row is reported, not created.
        Assert.Equal(IncidentWriteOutcome.Missing, (await store.UpdateAsync("no-such-incident", _ => true)).Outcome);
    }

    private Task<PipelineHarness> StartAsync() =>
        PipelineHarness.StartAsync(storage.ConnectionString, ReliabilitySupport.WriteScenario(Deployments, healthy: true, replicas: 0), Policy,
            diagnoser: FixedDiagnoser.Of(FailureClass.CrashLoop), healthSignal: new SettableHealthSignal(0.0));

    private async Task<IncidentStore> NewStoreAsync()
    {
        var store = new IncidentStore(new TableClient(storage.ConnectionString, "race" + Guid.NewGuid().ToString("N")[..12]));
        await store.EnsureCreatedAsync();
        return store;
    }

    private static IncidentRecord NewIncident() => new()
    {
        PartitionKey = "inc-" + Guid.NewGuid().ToString("N")[..12],
        AlertName = "KubePodCrashLooping",
        ReceivedAt = PipelineHarness.Start,
        StartsAt = PipelineHarness.Start,
    };

    /// <summary>
    /// A random start offset for one side of a race (seeded, so a failing trial can be replayed): a few yields, or a
    /// real-time delay of up to <paramref name="windowMs"/> ms so the write lands at any point of the other side's work.
    /// This only shapes the interleaving; no assertion waits on it.
    /// </summary>
    private static Func<Task> Jitter(Random random, double windowMs)
    {
        var yields = random.Next(4);
        var delayMs = random.Next(4) == 0 ? 0 : random.NextDouble() * windowMs;
        return async () =>
        {
            for (var i = 0; i < yields; i++)
            {
                await Task.Yield();
            }
            if (delayMs >= 1)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(delayMs));
            }
        };
    }
}
