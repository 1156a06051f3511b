using Azure;
using Azure.Data.Tables;

namespace Remediation.Storage;

/// <summary>Step rows (intent, outcome), alone or with the summary change in one transaction.</summary>
public sealed partial class IncidentStore
{
    /// <summary>
    /// Inserts an insert-only step row and changes the incident's summary row in one entity group transaction of the
    /// incident's partition (one round trip; the two rows cannot disagree). See <see cref="TryAddStepsAndUpdateAsync"/>.
    /// </summary>
    public Task<IncidentUpdate> TryAddStepAndUpdateAsync(IncidentStepRecord step, IncidentRecord current, Func<IncidentRecord, bool> apply, CancellationToken cancellationToken = default) =>
        TryAddStepsAndUpdateAsync([step], current, apply, cancellationToken);

    /// <summary>
    /// Inserts step rows and changes the summary row in one transaction (one partition, one round trip), the summary
    /// written as in <see cref="UpdateAsync"/>: <paramref name="apply"/> on the row as read, written only if unchanged
    /// (ETag). A lost race fails the whole transaction (nothing written): the row is re-read, the change re-applied and
    /// the transaction retried while the steps are still absent. <see cref="IncidentWriteOutcome.StepExists"/>, nothing
    /// written, when a step exists already (another worker got there first); <see cref="IncidentWriteOutcome.Declined"/>,
    /// nothing written, when the change no longer applies. Without a summary row the steps are written alone
    /// (<see cref="IncidentWriteOutcome.Missing"/>).
    /// </summary>
    public Task<IncidentUpdate> TryAddStepsAndUpdateAsync(IReadOnlyList<IncidentStepRecord> steps, IncidentRecord current, Func<IncidentRecord, bool> apply, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(apply);
        return UpdateLoopAsync(current.IncidentId, current, apply, async change =>
        {
            var candidate = change.Candidate;
            var actions = steps.Select(s => new TableTransactionAction(TableTransactionActionType.Add, s))
                .Append(change.AsTransactionAction())
                .ToList();
            try
            {
                var response = await StorageCall.Guard(() => table.SubmitTransactionAsync(actions, cancellationToken)).ConfigureAwait(false);
                if (response.Value.Count == actions.Count && response.Value[^1].Headers.ETag is { } etag)
                {
                    candidate.ETag = etag;
                }
                return WriteAttempt.Written;
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 409)
            {
                // Only an insert can conflict: a step exists.
                return WriteAttempt.StepExists;
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 412)
            {
                // The summary changed since it was read; the steps were not written either.
                return WriteAttempt.Conflict;
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 404)
            {
                // Only the update can miss: no summary row (any more).
                return WriteAttempt.Missing;
            }
        }, cancellationToken, whenMissing: async () =>
        {
            foreach (var step in steps)
            {
                if (!await TryAddStepAsync(step, cancellationToken).ConfigureAwait(false))
                {
                    return new IncidentUpdate(IncidentWriteOutcome.StepExists, null);
                }
            }
            return new IncidentUpdate(IncidentWriteOutcome.Missing, null);
        });
    }

    public async Task<IncidentStepRecord?> GetStepAsync(string incidentId, string step, CancellationToken cancellationToken = default)
    {
        var response = await StorageCall.Guard(() => table.GetEntityIfExistsAsync<IncidentStepRecord>(incidentId, IncidentRowKeys.For(step, incidentId), cancellationToken: cancellationToken)).ConfigureAwait(false);
        return response.HasValue ? response.Value : null;
    }

    public Task<bool> TryUpdateStepAsync(IncidentStepRecord step, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(step);
        return TryUpdateRowAsync(step, step.ETag, TableUpdateMode.Replace, cancellationToken);
    }
}
