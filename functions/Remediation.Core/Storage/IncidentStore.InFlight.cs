using Azure;
using Azure.Data.Tables;

namespace Remediation.Storage;

/// <summary>The in-flight partition: remediations acted on and not yet concluded (the global concurrency cap counts it).</summary>
public sealed partial class IncidentStore
{
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
}
