using System.Text.Json.Nodes;
using Remediation.Http;

namespace Remediation.Host;

/// <summary>Human-readable rendering of incidents and plans for the CLI.</summary>
public static class IncidentPrinter
{
    public static void Print(TextWriter output, IncidentView incident)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(incident);
        output.WriteLine($"incident   {incident.IncidentId}  ({incident.Source} alert {incident.AlertName}, severity {incident.Severity ?? "-"})");
        output.WriteLine($"target     {incident.Namespace ?? "?"}/{incident.Workload ?? "?"}");
        if (incident.Diagnosis is not null)
        {
            output.WriteLine($"diagnosis  {incident.Diagnosis}: {incident.DiagnosisSummary}");
            PrintEvidence(output, incident.DiagnosisDetail);
        }
        if (incident.Action is not null)
        {
            output.WriteLine($"action     {incident.Action}: {incident.Plan?["summary"]}");
            foreach (var mutation in incident.Plan?["mutations"]?.AsArray() ?? [])
            {
                output.WriteLine($"             {mutation?["kind"]} {mutation?["namespace"]}/{mutation?["name"]}: {mutation?["description"]}");
            }
            output.WriteLine($"prior      {incident.PriorState?.ToJsonString()}");
        }
        output.WriteLine($"outcome    {incident.State}{(incident.OutcomeReason is null ? "" : ": " + incident.OutcomeReason)}");
        if (incident.CompletedAt is { } completed)
        {
            output.WriteLine($"timing     received {incident.ReceivedAt:HH:mm:ss.fff}, acted {incident.ActedAt:HH:mm:ss.fff}, completed {completed:HH:mm:ss.fff} ({(completed - incident.ReceivedAt).TotalSeconds:F1}s)");
        }
    }

    public static void PrintEvidence(TextWriter output, JsonNode? diagnosis)
    {
        ArgumentNullException.ThrowIfNull(output);
        foreach (var evidence in diagnosis?["evidence"]?.AsArray() ?? [])
        {
            output.WriteLine($"  evidence [{evidence?["source"]}] {evidence?["text"]}");
        }
        foreach (var missing in diagnosis?["unavailable"]?.AsArray() ?? [])
        {
            output.WriteLine($"  not available: {missing}");
        }
    }
}
