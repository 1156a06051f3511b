using Azure;
using Azure.Data.Tables;
using Remediation.Storage;

namespace Remediation.Policy;

/// <summary>Where the per-target action history lives: one record per target, written conditionally (ETag).</summary>
public interface ITargetLedgerStore
{
    /// <summary>The target's record, or a new one (no ETag) when it has none.</summary>
    Task<TargetLedgerRecord> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Inserts a new record or replaces the one read if unchanged since (ETag); false on a lost race.</summary>
    Task<bool> TrySaveAsync(TargetLedgerRecord record, CancellationToken cancellationToken = default);
}

/// <summary>The ledger in Table Storage (the incidents table, partition <see cref="TargetLedgerRecord.KeyFor"/>).</summary>
public sealed class TableTargetLedgerStore(TableClient table) : ITargetLedgerStore
{
    private readonly CreatedOnce _created = new();

    public async Task<TargetLedgerRecord> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var response = await StorageCall.Guard(() => table.GetEntityIfExistsAsync<TargetLedgerRecord>(key, "target", cancellationToken: cancellationToken)).ConfigureAwait(false);
        return response.HasValue ? response.Value! : new TargetLedgerRecord { PartitionKey = key };
    }

    public async Task<bool> TrySaveAsync(TargetLedgerRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            if (record.ETag == default)
            {
                await StorageCall.Guard(() => table.AddEntityAsync(record, cancellationToken)).ConfigureAwait(false);
            }
            else
            {
                await StorageCall.Guard(() => table.UpdateEntityAsync(record, record.ETag, TableUpdateMode.Replace, cancellationToken)).ConfigureAwait(false);
            }
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }
    }

    private Task EnsureCreatedAsync(CancellationToken cancellationToken) => _created.EnsureAsync(table, cancellationToken);
}

/// <summary>
/// The ledger when no storage is configured (the CLI planning without storage): every target has an empty history
/// (no cooldown, no actions, breaker closed), and a write says storage is not configured.
/// </summary>
public sealed class EmptyTargetLedgerStore : ITargetLedgerStore
{
    public Task<TargetLedgerRecord> GetAsync(string key, CancellationToken cancellationToken = default) =>
        Task.FromResult(new TargetLedgerRecord { PartitionKey = key });

    public Task<bool> TrySaveAsync(TargetLedgerRecord record, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("storage is not configured: the action history cannot be written");
}
