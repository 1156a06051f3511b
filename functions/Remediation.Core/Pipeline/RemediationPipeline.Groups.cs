using Remediation.Storage;

namespace Remediation.Pipeline;

/// <summary>The pipeline's hook into incident groups (<see cref="CascadeGrouping"/>): joining one instead of acting.</summary>
public sealed partial class RemediationPipeline
{
    /// <summary>Joins a group (as its member first, so the lead's closing finds it), records the decision, and is closed at once if the lead is over.</summary>
    private async Task<IncidentState> JoinAsync(IncidentRecord incident, Decision decision, CancellationToken cancellationToken)
    {
        if (decision.GroupId is not { } lead)
        {
            return await CompleteAsync(incident, decision, cancellationToken).ConfigureAwait(false);
        }
        await cascade.AddMemberAsync(lead, incident.IncidentId, cancellationToken).ConfigureAwait(false);
        var state = await CompleteAsync(incident, decision, cancellationToken).ConfigureAwait(false);
        await cascade.CloseIfLeadOverAsync(lead, cancellationToken).ConfigureAwait(false);
        return state;
    }
}
