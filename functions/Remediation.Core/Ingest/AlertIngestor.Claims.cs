using System.Diagnostics;
using System.Text.Json;
using Remediation.Alerts;
using Remediation.Storage;

namespace Remediation.Ingest;

/// <summary>The ingestor's incident rows as claimed, and the claim copies their work items carry.</summary>
public sealed partial class AlertIngestor
{
    /// <summary>The work item of a claimed incident, carrying the row as inserted (see <see cref="ClaimCopy"/>).</summary>
    private static WorkItem ClaimedItem(IncidentRecord claimed) =>
        new(claimed.IncidentId, claimed.TraceParent, Claim: new ClaimCopy(claimed.ETag.ToString(), claimed.ReceivedAt, claimed.AlertJson));

    /// <summary>
    /// The summary row the ingestor inserted for <paramref name="item"/>'s incident, rebuilt from its claim copy as
    /// <see cref="NewRecord"/> built it (with the insert's ETag, and noted as the row stored); null when the item carries none, or one that does not
    /// describe a claimed incident of that id (then the row is read).
    /// </summary>
    public static IncidentRecord? ClaimedRecord(WorkItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (item.Claim is not { ETag.Length: > 0 } claim)
        {
            return null;
        }
        NormalizedAlert? alert;
        try
        {
            alert = JsonSerializer.Deserialize(claim.AlertJson, AlertJsonContext.Default.NormalizedAlert);
        }
        catch (JsonException)
        {
            return null;
        }
        if (alert is not { Status: AlertStatus.Firing, Target: not null } || alert.IncidentId != item.IncidentId)
        {
            return null;
        }
        var record = NewRecord(alert, claim.AlertJson, claim.ReceivedAt);
        record.TraceParent = item.TraceParent;
        record.ETag = new Azure.ETag(claim.ETag);
        // The row as inserted: while its ETag holds, the stored row is this one, so a change is written as what it changes.
        return record.MarkStored();
    }

    private static IncidentRecord NewRecord(NormalizedAlert alert, string alertJson, DateTimeOffset now) => new()
    {
        PartitionKey = alert.IncidentId,
        State = IncidentState.Received,
        Source = alert.Source.ToString(),
        AlertName = alert.Name,
        Fingerprint = alert.Fingerprint,
        StartsAt = alert.StartsAt,
        Severity = alert.Severity,
        Namespace = alert.Target?.Namespace,
        Workload = alert.Target?.Name,
        AlertJson = alertJson,
        ReceivedAt = now,
        TraceParent = Activity.Current?.Id,
    };
}
