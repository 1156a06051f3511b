using Azure;
using Azure.Data.Tables;

namespace Remediation.Storage;

/// <summary>
/// Row keys of an incident's partition: <c>{kind}|{incidentId}</c>, kind being <c>incident</c> (the summary row),
/// <c>intent</c> or <c>outcome</c>. The id in the row key makes every row key unique in the table. Azure Storage finds a
/// row by PartitionKey and RowKey alike either way, but Azurite (tests, benchmarks) looks a row up through its RowKey
/// index first and then walks every row sharing that RowKey: with a constant row key per kind, each point read, insert
/// and update got slower with every incident recorded (10,000 incidents: ~770 reads/s; unique keys: ~5,200/s).
/// </summary>
public static class IncidentRowKeys
{
    public const string Summary = "incident";
    public const string Intent = "intent";
    public const string Outcome = "outcome";

    /// <summary>Selects the summary rows (a RowKey range: the summary rows of every partition).</summary>
    public const string SummaryFilter = "RowKey ge 'incident|' and RowKey lt 'incident}'";

    public static string For(string kind, string incidentId) => kind + "|" + incidentId;

    /// <summary>The kind of a row of an incident's partition (<see cref="Summary"/>, <see cref="Intent"/>, <see cref="Outcome"/>).</summary>
    public static string KindOf(string rowKey)
    {
        ArgumentNullException.ThrowIfNull(rowKey);
        var bar = rowKey.IndexOf('|', StringComparison.Ordinal);
        return bar < 0 ? rowKey : rowKey[..bar];
    }
}

/// <summary>The summary row of one incident (PartitionKey = incident id, RowKey = <c>incident|{id}</c>).</summary>
public sealed partial class IncidentRecord : ITableEntity
{
    private string? _rowKey;

    public string PartitionKey { get; set; } = "";
    public string RowKey { get => _rowKey ?? IncidentRowKeys.For(IncidentRowKeys.Summary, PartitionKey); set => _rowKey = value; }
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string IncidentId => PartitionKey;
    /// <summary>Stored as the state's name.</summary>
    public IncidentState State { get; set; } = IncidentState.Received;
    public string Source { get; set; } = "";
    public string AlertName { get; set; } = "";
    public string Fingerprint { get; set; } = "";
    public DateTimeOffset StartsAt { get; set; }
    public string? Severity { get; set; }
    public string? Namespace { get; set; }
    public string? Workload { get; set; }
    public string AlertJson { get; set; } = "";
    public DateTimeOffset ReceivedAt { get; set; }
    public DateTimeOffset? ResolvedAt { get; set; }
    public string? DiagnosisClass { get; set; }
    public string? DiagnosisSummary { get; set; }
    public string? DiagnosisJson { get; set; }
    public string? Action { get; set; }
    public string? PlanJson { get; set; }
    public string? PriorStateJson { get; set; }
    public string? Outcome { get; set; }
    public string? OutcomeReason { get; set; }
    public DateTimeOffset? ActedAt { get; set; }
    public DateTimeOffset? VerifyDeadline { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    /// <summary>When the sweep last re-queued this incident (each is re-queued at most once per interval).</summary>
    public DateTimeOffset? RequeuedAt { get; set; }
    public string? TraceParent { get; set; }
    /// <summary>The incident leading this incident's group (a cascade's culprit remediation); null outside a group.</summary>
    public string? GroupId { get; set; }
    /// <summary>
    /// A token each change of the row carries (new per write): a writer that re-reads the row after its write's answer was
    /// lost finds its own token there and knows the write landed (see <see cref="IncidentStore"/>'s update).
    /// </summary>
    public string? WriteId { get; set; }

    /// <summary>A copy (every property is a value or an immutable string), to apply a change to without touching the original.</summary>
    public IncidentRecord Copy() => (IncidentRecord)MemberwiseClone();

    /// <summary>The row as stored when this record (or the record it was copied from) was read or written; null when not from storage.</summary>
    private IncidentRecord? _stored;

    /// <summary>
    /// The row as the store last read or wrote it (the columns read, for a projection): what <see cref="SummaryChange"/>
    /// compares a change with, so a field set on the record in place before the change is written with it.
    /// </summary>
    internal IncidentRecord? StoredRow() => _stored;

    /// <summary>Notes the record's present values as the row stored (after a read or a write of it).</summary>
    internal IncidentRecord MarkStored()
    {
        _stored = Snapshot(this);
        return this;
    }

    /// <summary>
    /// Notes the columns just merged into the row (<paramref name="written"/> sets them) on a new snapshot of the row as
    /// stored: a change made to the record and not written yet stays a change (copies share the old snapshot, untouched).
    /// </summary>
    internal void MarkWritten(Action<IncidentRecord> written)
    {
        var stored = Snapshot(_stored ?? this);
        written(stored);
        _stored = stored;
    }

    /// <summary>A copy of <paramref name="of"/> to keep as the row stored (a snapshot holds no snapshot of its own).</summary>
    private static IncidentRecord Snapshot(IncidentRecord of)
    {
        var stored = of.Copy();
        stored._stored = null;
        return stored;
    }
}

/// <summary>
/// Insert-only rows in the incident's partition (row keys <c>intent|{id}</c>, <c>outcome|{id}</c>). The "intent" row is written before any mutation and its
/// insert is the lock: only the worker whose insert succeeds may mutate. The "outcome" row follows the mutation.
/// </summary>
public sealed partial class IncidentStepRecord : ITableEntity
{
    public const string Intent = IncidentRowKeys.Intent;
    public const string OutcomeKey = IncidentRowKeys.Outcome;

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Worker { get; set; } = "";
    public DateTimeOffset At { get; set; }
    public string? Action { get; set; }
    public string? PlanJson { get; set; }
    public string? PriorStateJson { get; set; }
    public string? Outcome { get; set; }
    public string? Reason { get; set; }
    public bool DryRun { get; set; }
}
