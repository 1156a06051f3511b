using Microsoft.Extensions.Logging;
using Remediation.Diagnosis;
using Remediation.Storage;

namespace Remediation.Pipeline;

/// <summary>The pipeline's log messages and the copy of its findings onto the incident row.</summary>
public sealed partial class RemediationPipeline
{
    /// <summary>What this run found out about the incident (the workload acted on, the diagnosis), copied onto the row as it is now.</summary>
    internal static void CopyFindings(IncidentRecord from, IncidentRecord to)
    {
        (to.Namespace, to.Workload) = (from.Namespace, from.Workload);
        to.DiagnosisClass = from.DiagnosisClass;
        to.DiagnosisSummary = from.DiagnosisSummary;
        to.DiagnosisJson = from.DiagnosisJson;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Work item for unknown incident {IncidentId} ignored")]
    private partial void LogMissing(string incidentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Diagnosis {Class} of {Component}: {Summary}")]
    private partial void LogDiagnosis(FailureClass @class, string component, string summary);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Incident {IncidentId}: resuming the action interrupted on worker {Worker}")]
    private partial void LogResume(string incidentId, string worker);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outcome of {Action}: {Outcome} ({Reason})")]
    private partial void LogOutcome(string action, IncidentState outcome, string reason);
}
