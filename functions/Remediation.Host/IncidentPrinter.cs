using System.Text.Json.Nodes;
using Remediation.Http;
using Remediation.Text;

namespace Remediation.Host;

/// <summary>Human-readable rendering of incidents and plans for the CLI; text from alerts has its control and bidi characters escaped.</summary>
public static class IncidentPrinter
{
    public static void Print(TextWriter output, IncidentView incident)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(incident);
        Line(output, $"incident   {incident.IncidentId}  ({incident.Source} alert {incident.AlertName}, severity {incident.Severity ?? "-"})");
        Line(output, $"target     {incident.Namespace ?? "?"}/{incident.Workload ?? "?"}");
        if (incident.Diagnosis is not null)
        {
            Line(output, $"diagnosis  {incident.Diagnosis}: {incident.DiagnosisSummary}");
            PrintEvidence(output, incident.DiagnosisDetail);
        }
        if (incident.Action is not null)
        {
            Line(output, $"action     {incident.Action}: {incident.Plan?["summary"]}");
            foreach (var mutation in incident.Plan?["mutations"]?.AsArray() ?? [])
            {
                Line(output, $"             {mutation?["kind"]} {mutation?["namespace"]}/{mutation?["name"]}: {mutation?["description"]}");
            }
            Line(output, $"prior      {incident.PriorState?.ToJsonString()}");
        }
        Line(output, $"outcome    {incident.State}{(incident.OutcomeReason is null ? "" : ": " + incident.OutcomeReason)}");
        if (incident.CompletedAt is { } completed)
        {
            Line(output, $"timing     received {incident.ReceivedAt:HH:mm:ss.fff}, acted {incident.ActedAt:HH:mm:ss.fff}, completed {completed:HH:mm:ss.fff} ({(completed - incident.ReceivedAt).TotalSeconds:F1}s)");
        }
    }

    /// <summary>One line, control and bidi characters of alert text escaped (<see cref="DisplayText"/>).</summary>
    private static void Line(TextWriter output, string text) => output.WriteLine(DisplayText.Escape(text));

    public static void PrintEvidence(TextWriter output, JsonNode? diagnosis)
    {
        ArgumentNullException.ThrowIfNull(output);
        foreach (var evidence in diagnosis?["evidence"]?.AsArray() ?? [])
        {
            Line(output, $"  evidence [{evidence?["source"]}] {evidence?["text"]}");
        }
        foreach (var missing in diagnosis?["unavailable"]?.AsArray() ?? [])
        {
            Line(output, $"  not available: {missing}");
        }
    }
}
