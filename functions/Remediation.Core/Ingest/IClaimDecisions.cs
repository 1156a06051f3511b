using Remediation.Alerts;
using Remediation.Storage;

namespace Remediation.Ingest;

/// <summary>
/// A decision the claim may take for a firing alert without any read (from the process's memory), so the claim's insert
/// is the incident's whole record and no work item is queued. Null: the claim queues it and the worker decides.
/// </summary>
public interface IClaimDecisions
{
    (IncidentState State, string Reason)? AtClaim(NormalizedAlert alert, IncidentRecord claim);
}
