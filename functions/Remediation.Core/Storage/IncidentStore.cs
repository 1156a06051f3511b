using Azure;
using Azure.Data.Tables;

namespace Remediation.Storage;

/// <summary>
/// The Table Storage adapter of the incident ports: claims (insert-if-absent) and conditional summary changes here; step
/// transactions, group rows and history queries in the other parts of this class; the remediations in flight in a table of
/// their own (<see cref="InFlightTable"/>).
/// </summary>
public sealed partial class IncidentStore(TableClient table) : IIncidentStore, IIncidentHistory
{
    private readonly CreatedOnce _created = new();

    public TableClient Table => table;

    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => _created.EnsureAsync(table, cancellationToken);

    /// <summary>Inserts the incident row; false when it already exists (a duplicate delivery).</summary>
    public async Task<bool> TryClaimAsync(IncidentRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        if (!await TryAddAsync(record, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }
        record.MarkStored();
        return true;
    }

    public async Task<IncidentRecord?> GetAsync(string incidentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(incidentId);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var response = await StorageCall.Guard(() => table.GetEntityIfExistsAsync<IncidentRecord>(incidentId, IncidentRowKeys.For(IncidentRowKeys.Summary, incidentId), cancellationToken: cancellationToken)).ConfigureAwait(false);
        return response.HasValue ? response.Value?.MarkStored() : null;
    }

    public async Task<IncidentRecord?> GetColumnsAsync(string incidentId, IReadOnlyList<string> columns, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(incidentId);
        ArgumentNullException.ThrowIfNull(columns);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var response = await StorageCall.Guard(() => table.GetEntityIfExistsAsync<IncidentRecord>(incidentId, IncidentRowKeys.For(IncidentRowKeys.Summary, incidentId), columns, cancellationToken)).ConfigureAwait(false);
        return response.HasValue ? response.Value?.MarkStored() : null;
    }

    /// <summary>Attempts of one read → apply → conditional write before contention is reported as transient (503/retry).</summary>
    public const int MaxUpdateAttempts = 8;

    private long _conflicts;

    /// <summary>Summary-row writes that lost to a concurrent writer (412) and were re-read and re-applied (diagnostics, tests).</summary>
    public long ConflictRetries => Interlocked.Read(ref _conflicts);

    /// <summary>
    /// Changes an incident's summary row without erasing what another writer set: reads the row (or starts from
    /// <paramref name="current"/>, a copy read earlier that still carries its ETag), applies <paramref name="apply"/> to a
    /// copy and writes it only if the row is unchanged since the read (ETag). On a lost race (412) it re-reads and
    /// re-applies, at most <see cref="MaxUpdateAttempts"/> times, then throws <see cref="TransientDependencyException"/>.
    /// <paramref name="apply"/> changes only the fields its writer owns and returns false when the change no longer applies
    /// (e.g. the state moved on); it may run more than once. Whatever it does, a set ResolvedAt is kept and a terminal
    /// state is never changed (see <see cref="Merge"/>).
    /// </summary>
    public Task<IncidentUpdate> UpdateAsync(string incidentId, Func<IncidentRecord, bool> apply, IncidentRecord? current = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(incidentId);
        ArgumentNullException.ThrowIfNull(apply);
        return UpdateLoopAsync(incidentId, current, apply, async change =>
        {
            try
            {
                var response = await StorageCall.Guard(() => table.UpdateEntityAsync(change.Row, change.Candidate.ETag, change.Mode, cancellationToken)).ConfigureAwait(false);
                change.Candidate.ETag = response.Headers.ETag ?? change.Candidate.ETag;
                return WriteAttempt.Written;
            }
            catch (RequestFailedException ex) when (ex.Status == 412)
            {
                return WriteAttempt.Conflict;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                return WriteAttempt.Missing;
            }
        }, cancellationToken);
    }

    internal enum WriteAttempt
    {
        Written,
        Conflict,
        Missing,
        StepExists,
    }

    /// <summary>Read → apply → write (the changed columns, <see cref="SummaryChange"/>); on a conflict re-read and re-apply, bounded.</summary>
    private async Task<IncidentUpdate> UpdateLoopAsync(string incidentId, IncidentRecord? current, Func<IncidentRecord, bool> apply,
        Func<SummaryChange, Task<WriteAttempt>> write, CancellationToken cancellationToken, Func<Task<IncidentUpdate>>? whenMissing = null)
    {
        // A copy without an ETag (never read) cannot make the write conditional, and one without the row as stored (a
        // history page's row, shown only) cannot tell its changes from the columns it did not read: read the row instead.
        if (current is not null && (current.ETag == default || current.IncidentId != incidentId || current.StoredRow() is null))
        {
            current = null;
        }
        string? sent = null;
        for (var attempt = 0; attempt < MaxUpdateAttempts; attempt++)
        {
            current ??= await GetAsync(incidentId, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return whenMissing is null ? new IncidentUpdate(IncidentWriteOutcome.Missing, null) : await whenMissing().ConfigureAwait(false);
            }
            if (sent is not null && current.WriteId == sent)
            {
                // This writer's own change is in the row: its write landed and its answer was lost (the storage client's
                // retry of it was told the row had changed). It was written; re-applying it would be declined.
                return new IncidentUpdate(IncidentWriteOutcome.Written, current);
            }
            var candidate = current.Copy();
            if (!Merge(current, candidate, apply))
            {
                return new IncidentUpdate(IncidentWriteOutcome.Declined, current);
            }
            candidate.WriteId = sent = Guid.NewGuid().ToString("N");
            switch (await write(SummaryChange.Of(candidate)).ConfigureAwait(false))
            {
                case WriteAttempt.Written:
                    return new IncidentUpdate(IncidentWriteOutcome.Written, candidate.MarkStored());
                case WriteAttempt.StepExists:
                    // Another worker's step, or this transaction's own (its answer lost and its retry told the step exists).
                    current = await GetAsync(incidentId, cancellationToken).ConfigureAwait(false);
                    return current?.WriteId == sent
                        ? new IncidentUpdate(IncidentWriteOutcome.Written, current)
                        : new IncidentUpdate(IncidentWriteOutcome.StepExists, current);
                case WriteAttempt.Missing:
                    current = null;
                    continue;
                default:
                    // Another writer changed the row since it was read: read it again and re-apply the change to it.
                    Interlocked.Increment(ref _conflicts);
                    current = null;
                    continue;
            }
        }
        if (sent is not null && await GetAsync(incidentId, cancellationToken).ConfigureAwait(false) is { } last && last.WriteId == sent)
        {
            return new IncidentUpdate(IncidentWriteOutcome.Written, last);
        }
        throw new TransientDependencyException("storage", $"could not update incident {incidentId}: the row kept changing ({MaxUpdateAttempts} attempts)");
    }

    /// <summary>
    /// Applies a writer's change to <paramref name="candidate"/> (a copy of <paramref name="current"/>, the row as read),
    /// holding the rules no writer may break: ResolvedAt, once set, is kept (the ingestor owns it; the first resolution
    /// wins), and the state moves only as <see cref="IncidentLifecycle"/> allows: a terminal state is final (a late writer,
    /// e.g. the poison handler, cannot move Succeeded back). False when the change does not apply (nothing to write).
    /// </summary>
    internal static bool Merge(IncidentRecord current, IncidentRecord candidate, Func<IncidentRecord, bool> apply)
    {
        if (!apply(candidate))
        {
            return false;
        }
        if (!IncidentLifecycle.CanMove(current.State, candidate.State))
        {
            return false;
        }
        if (current.ResolvedAt is { } resolvedAt)
        {
            candidate.ResolvedAt = resolvedAt;
        }
        return true;
    }

    /// <summary>The columns the sweep reads of each open incident.</summary>
    public static readonly IReadOnlyList<string> SweepColumns =
        ["PartitionKey", "RowKey", "State", "ReceivedAt", "ActedAt", "RequeuedAt", "TraceParent", "ApprovalDeadline"];

    /// <summary>
    /// Sets RequeuedAt alone (a merge, so a record read with <see cref="SweepColumns"/> only loses nothing), if the row is
    /// unchanged since it was read (ETag); false on a lost race.
    /// </summary>
    public async Task<bool> TryMarkRequeuedAsync(IncidentRecord record, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var patch = new TableEntity(record.PartitionKey, record.RowKey) { [nameof(IncidentRecord.RequeuedAt)] = at, ETag = record.ETag };
        if (!await TryUpdateRowAsync(patch, record.ETag, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }
        record.RequeuedAt = at;
        record.ETag = patch.ETag;
        record.MarkWritten(stored => (stored.RequeuedAt, stored.ETag) = (at, patch.ETag));
        return true;
    }

    /// <summary>
    /// Deletes a claim (a summary row this process inserted) if it is unchanged since the insert (its ETag); false when
    /// another writer changed it meanwhile (e.g. its resolution was recorded) or it is gone: then the row stays.
    /// </summary>
    public async Task<bool> TryDeleteClaimAsync(IncidentRecord claimed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(claimed);
        if (claimed.ETag == default)
        {
            throw new ArgumentException("the claim carries no ETag (not inserted by TryClaimAsync)", nameof(claimed));
        }
        try
        {
            await StorageCall.Guard(() => table.DeleteEntityAsync(claimed.PartitionKey, claimed.RowKey, claimed.ETag, cancellationToken)).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return false;
        }
    }

    /// <summary>Inserts an insert-only step row; false when it exists already (another worker got there first).</summary>
    public Task<bool> TryAddStepAsync(IncidentStepRecord step, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(step);
        return TryAddAsync(step, cancellationToken);
    }

    /// <summary>Adds a row; false when it exists already (409).</summary>
    private async Task<bool> TryAddAsync(ITableEntity entity, CancellationToken cancellationToken)
    {
        try
        {
            var response = await StorageCall.Guard(() => table.AddEntityAsync(entity, cancellationToken)).ConfigureAwait(false);
            entity.ETag = response.Headers.ETag ?? entity.ETag;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    /// <summary>
    /// Updates a row if it still matches <paramref name="ifMatch"/> and takes its new ETag; false on a lost race (412) or
    /// when the row is gone (404).
    /// </summary>
    private async Task<bool> TryUpdateRowAsync(ITableEntity entity, ETag ifMatch, TableUpdateMode mode, CancellationToken cancellationToken)
    {
        try
        {
            var response = await StorageCall.Guard(() => table.UpdateEntityAsync(entity, ifMatch, mode, cancellationToken)).ConfigureAwait(false);
            entity.ETag = response.Headers.ETag ?? entity.ETag;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return false;
        }
    }
}
