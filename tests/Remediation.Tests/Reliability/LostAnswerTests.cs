using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Remediation.Alerts;
using Remediation.Policy;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Reliability;

/// <summary>
/// A write that lands but whose answer is lost (a timeout under load): the storage client retries it and is told the row
/// changed (or the step exists). The writer re-reads the row, finds its own change there and knows it was written, so
/// what follows a write (the in-flight removal, the circuit breaker's count, the group's members) is not skipped.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class LostAnswerTests(AzuriteFixture storage)
{
    [Fact]
    public async Task A_summary_change_whose_answer_was_lost_is_known_as_written()
    {
        var (store, lose) = await NewStoreAsync();
        var incident = await ClaimVerifyingAsync(store);

        lose.Arm(r => r.Method == RequestMethod.Patch || r.Method == RequestMethod.Put);
        var update = await store.UpdateAsync(incident.IncidentId, Conclude, incident);

        Assert.Equal(1, lose.Lost);
        Assert.Equal(IncidentWriteOutcome.Written, update.Outcome);
        Assert.Equal(IncidentState.Succeeded, update.Record!.State);
        Assert.Equal(IncidentState.Succeeded, (await store.GetAsync(incident.IncidentId))!.State);
    }

    [Fact]
    public async Task A_transaction_of_steps_and_summary_whose_answer_was_lost_is_known_as_written()
    {
        var (store, lose) = await NewStoreAsync();
        var incident = await ClaimVerifyingAsync(store);
        var step = new IncidentStepRecord
        {
            PartitionKey = incident.IncidentId, RowKey = IncidentRowKeys.For(IncidentStepRecord.OutcomeKey, incident.IncidentId),
            Worker = "verifier", At = PipelineHarness.Start, Outcome = nameof(IncidentState.Succeeded),
        };

        lose.Arm(r => r.Method == RequestMethod.Post && r.Uri.Path.EndsWith("$batch", StringComparison.Ordinal));
        var update = await store.TryAddStepsAndUpdateAsync([step], incident, Conclude);

        Assert.Equal(1, lose.Lost);
        Assert.Equal(IncidentWriteOutcome.Written, update.Outcome);
        Assert.Equal(IncidentState.Succeeded, update.Record!.State);
        Assert.NotNull(await store.GetStepAsync(incident.IncidentId, IncidentStepRecord.OutcomeKey));
    }

    [Fact]
    public async Task Another_writers_change_is_not_taken_for_this_ones()
    {
        var (store, _) = await NewStoreAsync();
        var incident = await ClaimVerifyingAsync(store);
        // Another writer concludes first (its own token); this writer, holding the row as read before, is declined.
        Assert.Equal(IncidentWriteOutcome.Written, (await store.UpdateAsync(incident.IncidentId, Conclude)).Outcome);

        var late = await store.UpdateAsync(incident.IncidentId, Conclude, incident);

        Assert.Equal(IncidentWriteOutcome.Declined, late.Outcome);
    }

    [Fact]
    public async Task An_outcome_whose_answer_was_lost_counts_once_toward_the_breaker()
    {
        var lose = new LoseOneAnswer();
        var ledger = new TargetLedger(new TableTargetLedgerStore(await NewTableAsync(lose)), TimeProvider.System);
        var target = new WorkloadTarget("shop", "checkout");
        Assert.Equal(0, (await ledger.GetAsync(target)).ConsecutiveFailures);

        // The first outcome inserts the target's record, the second replaces it: each write's answer is lost once.
        lose.Arm(r => r.Method == RequestMethod.Post || r.Method == RequestMethod.Put);
        await ledger.RecordOutcomeAsync(target, "inc-1", succeeded: false);
        Assert.Equal(1, lose.Lost);
        Assert.Equal(1, (await ledger.GetAsync(target)).ConsecutiveFailures);
        lose.Arm(r => r.Method == RequestMethod.Put);
        await ledger.RecordOutcomeAsync(target, "inc-2", succeeded: false);
        Assert.Equal(2, lose.Lost);
        Assert.Equal(2, (await ledger.GetAsync(target)).ConsecutiveFailures);
        // The same incident's outcome told again (a redelivery) is not counted again.
        await ledger.RecordOutcomeAsync(target, "inc-2", succeeded: false);
        Assert.Equal(2, (await ledger.GetAsync(target)).ConsecutiveFailures);
    }

    private static bool Conclude(IncidentRecord row)
    {
        if (row.State != IncidentState.Verifying)
        {
            return false;
        }
        row.State = IncidentState.Succeeded;
        row.OutcomeReason = "verified";
        return true;
    }

    private static async Task<IncidentRecord> ClaimVerifyingAsync(IncidentStore store)
    {
        var id = "inc-" + Guid.NewGuid().ToString("N")[..12];
        Assert.True(await store.TryClaimAsync(new IncidentRecord { PartitionKey = id, State = IncidentState.Verifying, ReceivedAt = PipelineHarness.Start }));
        return (await store.GetAsync(id))!;
    }

    private async Task<(IncidentStore Store, LoseOneAnswer Lose)> NewStoreAsync()
    {
        var lose = new LoseOneAnswer();
        return (new IncidentStore(await NewTableAsync(lose)), lose);
    }

    /// <summary>A fresh table whose client retries as the product's does and loses answers when <paramref name="lose"/> is armed.</summary>
    private async Task<TableClient> NewTableAsync(LoseOneAnswer lose)
    {
        var options = new TableClientOptions();
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.AddPolicy(lose, HttpPipelinePosition.PerRetry);
        var table = new TableClient(storage.ConnectionString, "lost" + Guid.NewGuid().ToString("N")[..12], options);
        await table.CreateIfNotExistsAsync();
        return table;
    }
}
