using Azure.Data.Tables;

namespace Remediation.Storage;

/// <summary>
/// A table or queue created on its first use, once per process: creation is idempotent (create if absent), so racing
/// first uses both create, and a failed creation is tried again on the next use.
/// </summary>
public sealed class CreatedOnce
{
    private int _created;

    /// <summary>Creates <paramref name="table"/> if absent, the first time.</summary>
    public Task EnsureAsync(TableClient table, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(table);
        return Volatile.Read(ref _created) == 1 ? Task.CompletedTask : CreateAsync(ct => StorageCall.Guard(() => table.CreateIfNotExistsAsync(ct)), cancellationToken);
    }

    /// <summary>Runs <paramref name="create"/> (idempotent) until it has succeeded once.</summary>
    public Task EnsureAsync(Func<CancellationToken, Task> create, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(create);
        return Volatile.Read(ref _created) == 1 ? Task.CompletedTask : CreateAsync(create, cancellationToken);
    }

    private async Task CreateAsync(Func<CancellationToken, Task> create, CancellationToken cancellationToken)
    {
        await create(cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _created, 1);
    }
}
