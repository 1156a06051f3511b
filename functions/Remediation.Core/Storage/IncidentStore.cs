using Azure;
using Azure.Data.Tables;

namespace Remediation.Storage;

/// <summary>Incidents in Table Storage: claims (insert-if-absent), intent/outcome steps, history queries.</summary>
public sealed class IncidentStore(TableClient table)
{
    private int _created;

    public TableClient Table => table;

    public async Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _created) == 1)
        {
            return;
        }
        await StorageCall.Guard(() => table.CreateIfNotExistsAsync(cancellationToken)).ConfigureAwait(false);
        Volatile.Write(ref _created, 1);
    }

    /// <summary>Inserts the incident row; false when it already exists (a duplicate delivery).</summary>
    public async Task<bool> TryClaimAsync(IncidentRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        return await TryAddAsync(record, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IncidentRecord?> GetAsync(string incidentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(incidentId);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var response = await StorageCall.Guard(() => table.GetEntityIfExistsAsync<IncidentRecord>(incidentId, IncidentRowKeys.For(IncidentRowKeys.Summary, incidentId), cancellationToken: cancellationToken)).ConfigureAwait(false);
        return response.HasValue ? response.Value : null;
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
        return UpdateLoopAsync(incidentId, current, apply, async candidate =>
        {
            try
            {
                var response = await StorageCall.Guard(() => table.UpdateEntityAsync(candidate, candidate.ETag, TableUpdateMode.Replace, cancellationToken)).ConfigureAwait(false);
                candidate.ETag = response.Headers.ETag ?? candidate.ETag;
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

    private enum WriteAttempt
    {
        Written,
        Conflict,
        Missing,
        StepExists,
    }

    /// <summary>Read → apply → write; on a conflict re-read and re-apply, bounded.</summary>
    private async Task<IncidentUpdate> UpdateLoopAsync(string incidentId, IncidentRecord? current, Func<IncidentRecord, bool> apply,
        Func<IncidentRecord, Task<WriteAttempt>> write, CancellationToken cancellationToken, Func<Task<IncidentUpdate>>? whenMissing = null)
    {
        // A copy without an ETag (never read) cannot make the write conditional: read the row instead.
        if (current is not null && (current.ETag == default || current.IncidentId != incidentId))
        {
            current = null;
        }
        for (var attempt = 0; attempt < MaxUpdateAttempts; attempt++)
        {
            current ??= await GetAsync(incidentId, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return whenMissing is null ? new IncidentUpdate(IncidentWriteOutcome.Missing, null) : await whenMissing().ConfigureAwait(false);
            }
            var candidate = current.Copy();
            if (!Merge(current, candidate, apply))
            {
                return new IncidentUpdate(IncidentWriteOutcome.Declined, current);
            }
            switch (await write(candidate).ConfigureAwait(false))
            {
                case WriteAttempt.Written:
                    return new IncidentUpdate(IncidentWriteOutcome.Written, candidate);
                case WriteAttempt.StepExists:
                    return new IncidentUpdate(IncidentWriteOutcome.StepExists, current);
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
        ["PartitionKey", "RowKey", "State", "ReceivedAt", "ActedAt", "RequeuedAt", "TraceParent"];

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

    /// <summary>
    /// Inserts an insert-only step row and changes the incident's summary row in one entity group transaction of the
    /// incident's partition (one round trip; the two rows cannot disagree). See <see cref="TryAddStepsAndUpdateAsync"/>.
    /// </summary>
    public Task<IncidentUpdate> TryAddStepAndUpdateAsync(IncidentStepRecord step, IncidentRecord current, Func<IncidentRecord, bool> apply, CancellationToken cancellationToken = default) =>
        TryAddStepsAndUpdateAsync([step], current, apply, cancellationToken);

    /// <summary>
    /// Inserts step rows and changes the summary row in one transaction (one partition, one round trip), the summary
    /// written as in <see cref="UpdateAsync"/>: <paramref name="apply"/> on the row as read, replaced only if unchanged
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
        return UpdateLoopAsync(current.IncidentId, current, apply, async candidate =>
        {
            var actions = steps.Select(s => new TableTransactionAction(TableTransactionActionType.Add, s))
                .Append(new TableTransactionAction(TableTransactionActionType.UpdateReplace, candidate, candidate.ETag))
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

    /// <summary>
    /// The partition of remediations in flight (acted on, not yet concluded): a row per incident (RowKey = incident id)
    /// with the time it stops counting. The global concurrency cap counts this one partition instead of scanning every
    /// incident ever recorded; a row whose removal was lost stops counting at its expiry.
    /// </summary>
    public const string InFlightPartition = "inflight";

    /// <summary>
    /// Registers a remediation in flight until <paramref name="expiresAt"/> (idempotent). An unconditional upsert: the row
    /// is the incident's own and holds one value; two workers racing on the incident (before the intent decides which
    /// acts) both write nearly the same expiry, and either value is right.
    /// </summary>
    public async Task AddInFlightAsync(string incidentId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(incidentId);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var row = new TableEntity(InFlightPartition, incidentId) { ["ExpiresAt"] = expiresAt };
        await StorageCall.Guard(() => table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// The remediation concluded: it no longer counts toward the cap. Idempotent. Unconditional (ETag.All) on purpose:
    /// the row is this incident's own, written once before acting (<see cref="AddInFlightAsync"/>) and removed by the one
    /// writer that records the incident's conclusion (those writes are ETag-conditional on the summary row), so whatever
    /// version of it exists is the one to remove.
    /// </summary>
    public async Task RemoveInFlightAsync(string incidentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(incidentId);
        try
        {
            await StorageCall.Guard(() => table.DeleteEntityAsync(InFlightPartition, incidentId, ETag.All, cancellationToken)).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Not registered (never acted, or removed already).
        }
    }

    /// <summary>Deletes the rows of the in-flight partition that expired by <paramref name="now"/> (their removal was lost); returns how many.</summary>
    public async Task<int> PurgeExpiredInFlightAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {InFlightPartition} and ExpiresAt le {now}");
        var expired = await QueryAllAsync<TableEntity>(filter, ["RowKey"], cancellationToken).ConfigureAwait(false);
        var purged = 0;
        foreach (var row in expired)
        {
            // Conditional on the version read: a row registered again since the query (a fresh expiry) stays.
            try
            {
                await StorageCall.Guard(() => table.DeleteEntityAsync(InFlightPartition, row.RowKey, row.ETag, cancellationToken)).ConfigureAwait(false);
                purged++;
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                // Removed already, or registered again since the query.
            }
        }
        return purged;
    }

    /// <summary>Remediations in flight at <paramref name="now"/>, other than <paramref name="exceptIncidentId"/>: one partition query.</summary>
    public async Task<int> CountInFlightAsync(string exceptIncidentId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {InFlightPartition} and ExpiresAt gt {now} and RowKey ne {exceptIncidentId}");
        return (await QueryAllAsync<TableEntity>(filter, ["RowKey"], cancellationToken).ConfigureAwait(false)).Count;
    }

    /// <summary>
    /// Every incident summary the query selects, newest first: a scan of all of them (the sweep and the verifier read
    /// the open incidents this way). History is read a page at a time with <see cref="ListPageAsync"/>.
    /// </summary>
    public async Task<IReadOnlyList<IncidentRecord>> ListAsync(IncidentQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var results = await QueryAllAsync<IncidentRecord>(Filter(query), query.Select, cancellationToken).ConfigureAwait(false);
        results.Sort(NewestFirst);
        return results;
    }

    /// <summary>Most round trips to Table Storage for one page; a selective filter over many rows may end a page short.</summary>
    public const int MaxRoundTripsPerPage = 20;

    /// <summary>
    /// One page of incident summaries from <paramref name="from"/> (null: the start), at most <paramref name="pageSize"/>.
    /// <para>
    /// Pages follow Table Storage's own order, (PartitionKey, RowKey), which is incident id order: each incident is one
    /// partition. Table Storage has no other order to page in, and sorting all incidents by time would mean reading all
    /// of them for every page. The page's continuation is Table Storage's (the key of the next row to scan), so paging
    /// is stable and complete: every incident that exists when the first page is read, and is not deleted, is in exactly
    /// one page, whatever arrives in between (a new incident appears in a later page if its id sorts after the position
    /// reached, else not at all in this pass). Within a page the incidents are sorted newest first.
    /// </para>
    /// A page can hold fewer than <paramref name="pageSize"/> incidents (filters are applied by the service as it scans,
    /// and one page makes at most <see cref="MaxRoundTripsPerPage"/> round trips); the end is a null
    /// <see cref="IncidentPage.Continuation"/>, never a short page.
    /// </summary>
    public async Task<IncidentPage> ListPageAsync(IncidentQuery query, int pageSize, IncidentCursor? from = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, 1000);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var filter = Filter(query);
        var items = new List<IncidentRecord>(Math.Min(pageSize, 1000));
        var token = from?.TableToken;
        try
        {
            for (var trip = 0; trip < MaxRoundTripsPerPage && items.Count < pageSize; trip++)
            {
                var wanted = pageSize - items.Count;
                var pages = table.QueryAsync<IncidentRecord>(filter, maxPerPage: wanted, select: query.Select, cancellationToken: cancellationToken)
                    .AsPages(token, wanted);
                Page<IncidentRecord>? page = null;
                await foreach (var first in pages.ConfigureAwait(false))
                {
                    page = first;
                    break;
                }
                if (page is null)
                {
                    token = null;
                    break;
                }
                items.AddRange(page.Values);
                token = page.ContinuationToken;
                if (string.IsNullOrEmpty(token))
                {
                    token = null;
                    break;
                }
            }
        }
        catch (Exception ex) when (TransientDependencyException.IsTransient(ex))
        {
            throw new TransientDependencyException("storage", $"table storage unavailable: {ex.Message}", ex);
        }
        items.Sort(NewestFirst);
        return new IncidentPage(items, token is null ? null : IncidentCursor.FromTableToken(token));
    }

    /// <summary>Most summary rows <see cref="CountByStateAsync"/> reads by default.</summary>
    public const int DefaultMaxCounted = 100_000;

    /// <summary>
    /// How many incidents the query selects, per state. It scans, so its cost is bounded: only the State column is read
    /// (a projection: ~100 bytes a row instead of the whole incident) and at most <paramref name="maxRows"/> rows;
    /// past that the counts are partial (<see cref="IncidentCounts.Complete"/> false).
    /// </summary>
    public async Task<IncidentCounts> CountByStateAsync(IncidentQuery query, int maxRows = DefaultMaxCounted, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var total = 0;
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>(Filter(query), maxPerPage: 1000, select: [nameof(IncidentRecord.State)], cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (total == maxRows)
                {
                    return new IncidentCounts(counts, total, Complete: false);
                }
                var state = row.GetString(nameof(IncidentRecord.State)) ?? "";
                counts[state] = counts.GetValueOrDefault(state) + 1;
                total++;
            }
        }
        catch (Exception ex) when (TransientDependencyException.IsTransient(ex))
        {
            throw new TransientDependencyException("storage", $"table storage unavailable: {ex.Message}", ex);
        }
        return new IncidentCounts(counts, total, Complete: true);
    }

    private static readonly Comparison<IncidentRecord> NewestFirst = (a, b) =>
    {
        var byTime = b.ReceivedAt.CompareTo(a.ReceivedAt);
        return byTime != 0 ? byTime : string.CompareOrdinal(a.PartitionKey, b.PartitionKey);
    };

    /// <summary>The summary rows the query selects, as an OData filter.</summary>
    private static string Filter(IncidentQuery query)
    {
        var filters = new List<string> { IncidentRowKeys.SummaryFilter };
        if (query.Namespace is { Length: > 0 } ns)
        {
            filters.Add(TableClient.CreateQueryFilter($"Namespace eq {ns}"));
        }
        if (query.Workload is { Length: > 0 } workload)
        {
            filters.Add(TableClient.CreateQueryFilter($"Workload eq {workload}"));
        }
        if (query.State is { Length: > 0 } state)
        {
            filters.Add(TableClient.CreateQueryFilter($"State eq {state}"));
        }
        if (query.States is { Count: > 0 } states)
        {
            filters.Add("(" + string.Join(" or ", states.Select(s => TableClient.CreateQueryFilter($"State eq {s.ToString()}"))) + ")");
        }
        if (query.Since is { } since)
        {
            filters.Add(TableClient.CreateQueryFilter($"ReceivedAt ge {since}"));
        }
        return string.Join(" and ", filters);
    }

    /// <summary>Every row the filter selects, all pages; a storage outage is a <see cref="TransientDependencyException"/>.</summary>
    private async Task<List<T>> QueryAllAsync<T>(string filter, IEnumerable<string>? select, CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        var rows = new List<T>();
        try
        {
            await foreach (var row in table.QueryAsync<T>(filter, maxPerPage: 1000, select: select, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                rows.Add(row);
            }
        }
        catch (Exception ex) when (TransientDependencyException.IsTransient(ex))
        {
            throw new TransientDependencyException("storage", $"table storage unavailable: {ex.Message}", ex);
        }
        return rows;
    }
}

/// <summary>What a conditional change of a summary row did.</summary>
public enum IncidentWriteOutcome
{
    /// <summary>The change (and any step rows) was written.</summary>
    Written,
    /// <summary>The change no longer applies to the row as it is now (another writer moved it on); nothing written.</summary>
    Declined,
    /// <summary>No summary row; step rows, if any, were written alone.</summary>
    Missing,
    /// <summary>A step row exists already (another worker got there first); nothing written.</summary>
    StepExists,
}

/// <summary>The outcome of a summary-row change and the row as it is now: as written, or as last read when not written.</summary>
public sealed record IncidentUpdate(IncidentWriteOutcome Outcome, IncidentRecord? Record)
{
    public bool Written => Outcome == IncidentWriteOutcome.Written;
}

/// <summary>A history query; <paramref name="Select"/> reads only those columns (the others keep their defaults).</summary>
public sealed record IncidentQuery(string? Namespace = null, string? Workload = null, string? State = null, DateTimeOffset? Since = null,
    IReadOnlyList<IncidentState>? States = null, IReadOnlyList<string>? Select = null);

/// <summary>One page of history: its incidents (newest first) and where the next page starts (null: this was the last).</summary>
public sealed record IncidentPage(IReadOnlyList<IncidentRecord> Incidents, IncidentCursor? Continuation);

/// <summary>Incidents per state; <see cref="Complete"/> is false when counting stopped at its bound.</summary>
public sealed record IncidentCounts(IReadOnlyDictionary<string, int> ByState, int Total, bool Complete);
