using System.Reflection;
using Azure.Data.Tables;

namespace Remediation.Storage;

/// <summary>
/// How a change of an incident's summary row is written: the columns that differ between the row as read and the row
/// to write, sent as a conditional merge (ETag), or the whole row as a conditional replace when a column is cleared (a
/// merge keeps a column it is not sent, so it cannot remove one).
/// <para>
/// A merge of the changed columns is the same row as the replace, sent smaller: the summary carries the alert as received
/// and the diagnosis (kilobytes) while most changes set a state and a reason. It also costs what a change costs: the
/// storage emulator (Azurite) replaces a row by removing and re-inserting it, which rebuilds its indexes of the whole
/// table, while it merges a row in place (at 100,000 incidents the worker's replaces were the storm's largest cost).
/// </para>
/// A row read with some columns only (a projection) holds defaults in the others: a change of it sends what differs from
/// what was read, so it never erases a column it did not read (nor clears or resets one: set from the whole row for that).
/// </summary>
public sealed record SummaryChange(IncidentRecord Candidate, ITableEntity Row, TableUpdateMode Mode)
{
    /// <summary>The summary's own columns: every public read-write property but the keys, Timestamp and ETag.</summary>
    private static readonly PropertyInfo[] Columns = [.. typeof(IncidentRecord).GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p is { CanRead: true, CanWrite: true } && p.GetIndexParameters().Length == 0
            && p.Name is not (nameof(ITableEntity.PartitionKey) or nameof(ITableEntity.RowKey) or nameof(ITableEntity.Timestamp) or nameof(ITableEntity.ETag)))];

    /// <summary>
    /// The write of <paramref name="candidate"/>, a changed copy of a row the store read or wrote (its ETag is the
    /// condition): the columns that differ from that row as stored (<see cref="IncidentRecord.StoredRow"/>), or the whole row
    /// when a column is cleared or the record does not come from storage.
    /// </summary>
    public static SummaryChange Of(IncidentRecord candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return candidate.StoredRow() is { } stored ? Between(stored, candidate) : new SummaryChange(candidate, candidate, TableUpdateMode.Replace);
    }

    /// <summary>The write of <paramref name="candidate"/> over <paramref name="read"/>, the row as stored.</summary>
    public static SummaryChange Between(IncidentRecord read, IncidentRecord candidate)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(candidate);
        var patch = new TableEntity(candidate.PartitionKey, candidate.RowKey) { ETag = candidate.ETag };
        foreach (var column in Columns)
        {
            var after = column.GetValue(candidate);
            if (Equals(column.GetValue(read), after))
            {
                continue;
            }
            if (after is null)
            {
                return new SummaryChange(candidate, candidate, TableUpdateMode.Replace);
            }
            patch[column.Name] = after is Enum value ? value.ToString() : after;
        }
        return new SummaryChange(candidate, patch, TableUpdateMode.Merge);
    }

    /// <summary>The same write as an action of an entity group transaction, conditional on the row as read.</summary>
    public TableTransactionAction AsTransactionAction() =>
        new(Mode == TableUpdateMode.Merge ? TableTransactionActionType.UpdateMerge : TableTransactionActionType.UpdateReplace, Row, Candidate.ETag);
}
