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

    /// <summary>Updates the summary row; with the record's ETag unless <paramref name="force"/>. False on a lost race (412).</summary>
    public Task<bool> TryUpdateAsync(IncidentRecord record, bool force = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return TryUpdateRowAsync(record, force ? ETag.All : record.ETag, TableUpdateMode.Replace, cancellationToken);
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

    public async Task DeleteAsync(string incidentId, CancellationToken cancellationToken = default)
    {
        await StorageCall.Guard(() => table.DeleteEntityAsync(incidentId, IncidentRowKeys.For(IncidentRowKeys.Summary, incidentId), ETag.All, cancellationToken)).ConfigureAwait(false);
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
            await StorageCall.Guard(() => table.AddEntityAsync(entity, cancellationToken)).ConfigureAwait(false);
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
    /// Inserts an insert-only step row and replaces the incident's summary row (unconditionally) in one entity group
    /// transaction of the incident's partition: one round trip instead of <see cref="TryAddStepAsync"/> then
    /// <see cref="TryUpdateAsync"/> with force, and the two rows can no longer disagree. False, with nothing written, when
    /// the step row exists already (another worker got there first). When the summary row is gone, the step row is still
    /// written, as the two separate calls did.
    /// </summary>
    public Task<bool> TryAddStepAndUpdateAsync(IncidentStepRecord step, IncidentRecord record, CancellationToken cancellationToken = default) =>
        TryAddStepsAndUpdateAsync([step], record, cancellationToken);

    /// <summary>
    /// Inserts step rows and replaces the summary row in one transaction (one partition, one round trip);
    /// false when any step exists already. Without a summary row the steps are written alone.
    /// </summary>
    public async Task<bool> TryAddStepsAndUpdateAsync(IReadOnlyList<IncidentStepRecord> steps, IncidentRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(record);
        var actions = steps.Select(s => new TableTransactionAction(TableTransactionActionType.Add, s))
            .Append(new TableTransactionAction(TableTransactionActionType.UpdateReplace, record, ETag.All))
            .ToList();
        try
        {
            var response = await StorageCall.Guard(() => table.SubmitTransactionAsync(actions, cancellationToken)).ConfigureAwait(false);
            if (response.Value.Count == actions.Count && response.Value[^1].Headers.ETag is { } etag)
            {
                record.ETag = etag;
            }
            return true;
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 409)
        {
            // Only the insert can conflict (the replace is unconditional): the step exists.
            return false;
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 404)
        {
            // Only the replace can miss: no summary row. Write the steps alone.
            foreach (var step in steps)
            {
                if (!await TryAddStepAsync(step, cancellationToken).ConfigureAwait(false))
                {
                    return false;
                }
            }
            return true;
        }
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

    /// <summary>Registers a remediation in flight until <paramref name="expiresAt"/> (idempotent).</summary>
    public async Task AddInFlightAsync(string incidentId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(incidentId);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var row = new TableEntity(InFlightPartition, incidentId) { ["ExpiresAt"] = expiresAt };
        await StorageCall.Guard(() => table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>The remediation concluded: it no longer counts toward the cap. Idempotent.</summary>
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
        var expired = (await QueryAllAsync<TableEntity>(filter, ["RowKey"], cancellationToken).ConfigureAwait(false)).Select(row => row.RowKey).ToList();
        foreach (var incidentId in expired)
        {
            await RemoveInFlightAsync(incidentId, cancellationToken).ConfigureAwait(false);
        }
        return expired.Count;
    }

    /// <summary>Remediations in flight at <paramref name="now"/>, other than <paramref name="exceptIncidentId"/>: one partition query.</summary>
    public async Task<int> CountInFlightAsync(string exceptIncidentId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {InFlightPartition} and ExpiresAt gt {now} and RowKey ne {exceptIncidentId}");
        return (await QueryAllAsync<TableEntity>(filter, ["RowKey"], cancellationToken).ConfigureAwait(false)).Count;
    }

    /// <summary>Incident summaries, newest first, filtered by namespace, workload and state.</summary>
    public async Task<IReadOnlyList<IncidentRecord>> ListAsync(IncidentQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
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
            filters.Add("(" + string.Join(" or ", states.Select(s => TableClient.CreateQueryFilter($"State eq {s}"))) + ")");
        }
        if (query.Since is { } since)
        {
            filters.Add(TableClient.CreateQueryFilter($"ReceivedAt ge {since}"));
        }
        var filter = string.Join(" and ", filters);
        var results = await QueryAllAsync<IncidentRecord>(filter, query.Select, cancellationToken).ConfigureAwait(false);
        results.Sort((a, b) => b.ReceivedAt.CompareTo(a.ReceivedAt));
        return query.Limit is { } limit && results.Count > limit ? results[..limit] : results;
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

/// <summary>A history query; <paramref name="Select"/> reads only those columns (the others keep their defaults).</summary>
public sealed record IncidentQuery(string? Namespace = null, string? Workload = null, string? State = null, DateTimeOffset? Since = null, int? Limit = null,
    IReadOnlyList<string>? States = null, IReadOnlyList<string>? Select = null);
