using Azure;
using Azure.Data.Tables;

namespace Remediation.Storage;

/// <summary>
/// The remediations in flight (out of Received to act or to ask for approval, not yet concluded), in a table of their own
/// (the incidents table's name + "inflight", <see cref="StorageOptions.InFlightTable"/>): one partition, a row per incident (RowKey = incident
/// id) with the time it stops counting. The global concurrency cap counts it instead of scanning every incident ever
/// recorded, and the sweep reads it as the index of the incidents under way; a row whose removal was lost stops counting at
/// its expiry and is removed by the sweep.
/// <para>
/// A table of its own, not a partition of the incidents table: it is queried on every reservation and every sweep, and a
/// query's cost must follow the work in flight, not the history. On Azure a partition query already does; the storage
/// emulator (Azurite) evaluates every query's filter against every row of the table, so in the incidents table each of
/// these queries grew with every incident ever recorded (at 100,000 incidents it was the storm's largest cost).
/// </para>
/// </summary>
public sealed class InFlightTable(TableClient table) : IInFlightRemediations
{
    public const string InFlightPartition = "inflight";

    /// <summary>The table's name for an incidents table: its name + "inflight" (hence at most 55 characters).</summary>
    public static string NameFor(string incidentsTable) => incidentsTable + StorageOptions.InFlightSuffix;

    private readonly CreatedOnce _created = new();

    public TableClient Table => table;

    private Task EnsureCreatedAsync(CancellationToken cancellationToken) => _created.EnsureAsync(table, cancellationToken);

    /// <summary>
    /// Registers a remediation in flight, counting until <paramref name="countsUntil"/> (idempotent). An unconditional upsert: the row
    /// is the incident's own and holds one value; two workers racing on the incident (before the intent decides which
    /// acts) both write nearly the same expiry, and either value is right.
    /// </summary>
    public async Task AddInFlightAsync(string incidentId, DateTimeOffset countsUntil, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(incidentId);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var row = new TableEntity(InFlightPartition, incidentId) { ["ExpiresAt"] = countsUntil };
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
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StorageCall.Guard(() => table.DeleteEntityAsync(InFlightPartition, incidentId, ETag.All, cancellationToken)).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Not registered (never acted, or removed already).
        }
    }

    public async Task<IReadOnlyList<InFlightRegistration>> ListInFlightAsync(CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {InFlightPartition}");
        var rows = await IncidentStore.QueryAllAsync<TableEntity>(table, filter, ["RowKey", "ExpiresAt"], cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(r => new InFlightRegistration(r.RowKey, r.GetDateTimeOffset("ExpiresAt") ?? DateTimeOffset.MinValue, r.ETag))];
    }

    public async Task<bool> TryRemoveInFlightAsync(InFlightRegistration registration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registration);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StorageCall.Guard(() => table.DeleteEntityAsync(InFlightPartition, registration.IncidentId, registration.Version, cancellationToken)).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Removed already, or registered again since it was listed.
            return false;
        }
    }

    /// <summary>Remediations in flight at <paramref name="now"/>, other than <paramref name="exceptIncidentId"/>: one partition query.</summary>
    public async Task<int> CountInFlightAsync(string exceptIncidentId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {InFlightPartition} and ExpiresAt gt {now} and RowKey ne {exceptIncidentId}");
        return (await IncidentStore.QueryAllAsync<TableEntity>(table, filter, ["RowKey"], cancellationToken).ConfigureAwait(false)).Count;
    }
}
