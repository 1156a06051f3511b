using Azure;
using Azure.Data.Tables;

namespace Remediation.Storage;

/// <summary>Incident states. Terminal: Succeeded, Failed, Escalated, Refused, Resolved, NoAction.</summary>
public static class IncidentStates
{
    public const string Received = "Received";
    public const string Acting = "Acting";
    public const string Verifying = "Verifying";
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";
    public const string Escalated = "Escalated";
    public const string Refused = "Refused";
    public const string NoAction = "NoAction";
    public const string DryRun = "DryRun";
    /// <summary>Only a resolved notification was seen for this incident.</summary>
    public const string Resolved = "Resolved";

    public static bool IsTerminal(string state) =>
        state is Succeeded or Failed or Escalated or Refused or NoAction or DryRun or Resolved;
}

/// <summary>The summary row of one incident (PartitionKey = incident id, RowKey = "incident").</summary>
public sealed class IncidentRecord : ITableEntity
{
    public const string RowKeyValue = "incident";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = RowKeyValue;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string IncidentId => PartitionKey;
    public string State { get; set; } = IncidentStates.Received;
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
}

/// <summary>
/// Insert-only rows in the incident's partition. The "intent" row is written before any mutation and its
/// insert is the lock: only the worker whose insert succeeds may mutate. The "outcome" row follows the mutation.
/// </summary>
public sealed class IncidentStepRecord : ITableEntity
{
    public const string Intent = "intent";
    public const string OutcomeKey = "outcome";

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
