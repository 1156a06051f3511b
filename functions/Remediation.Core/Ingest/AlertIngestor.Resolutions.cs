using Remediation.Alerts;
using Remediation.Storage;

namespace Remediation.Ingest;

/// <summary>The ingestor's recording of resolved notifications.</summary>
public sealed partial class AlertIngestor
{
    /// <summary>
    /// Records a resolution: sets ResolvedAt (the ingestor owns it; the first resolution wins) on the incident whatever its
    /// state, through the store's conditional read → apply → write, so a pipeline, verifier or poison handler writing the
    /// row at the same moment neither loses it nor is overwritten. Without an incident, one is recorded as Resolved.
    /// </summary>
    private async Task RecordResolvedAsync(NormalizedAlert alert, string alertJson, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var resolvedAt = alert.EndsAt ?? now;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var update = await store.UpdateAsync(alert.IncidentId, incident =>
            {
                if (incident.ResolvedAt is not null)
                {
                    return false;
                }
                incident.ResolvedAt = resolvedAt;
                return true;
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (update.Outcome != IncidentWriteOutcome.Missing)
            {
                return;
            }
            var record = NewRecord(alert, alertJson, now);
            record.State = IncidentState.Resolved;
            record.Outcome = nameof(IncidentState.Resolved);
            record.OutcomeReason = "resolved notification without a firing one: recorded, not acted on";
            record.ResolvedAt = resolvedAt;
            record.CompletedAt = now;
            if (await store.TryClaimAsync(record, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
            // The firing notification's claim got there first: set ResolvedAt on it.
        }
        throw new TransientDependencyException("storage", $"could not record the resolution of incident {alert.IncidentId}: too much contention");
    }
}
