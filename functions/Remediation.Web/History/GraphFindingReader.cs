using System.Text.Json;
using System.Text.Json.Nodes;
using Remediation.ServiceGraph;

namespace Remediation.Http.History;

/// <summary>The service-graph finding recorded in an incident's diagnosis (its <c>graph</c> property), as the history page reads it.</summary>
internal static class GraphFindingReader
{
    /// <summary>The finding; null when the diagnosis has none; <paramref name="problem"/> says why a recorded one could not be read.</summary>
    public static ServiceGraphFinding? Read(string? diagnosisJson, out string? problem)
    {
        problem = null;
        if (HistoryFormat.ParseOrNull(diagnosisJson) is not JsonObject diagnosis || diagnosis["graph"] is not { } graph)
        {
            return null;
        }

        try
        {
            var finding = graph.Deserialize(WebJsonContext.Default.ServiceGraphFinding);
            if (finding is null || finding.Edges is null || finding.Victims is null || finding.Chain is null || finding.Evidence is null)
            {
                problem = "the recorded service graph is incomplete";
                return null;
            }

            return finding;
        }
        catch (JsonException ex)
        {
            problem = $"the recorded service graph could not be read (at {ex.Path ?? "$"})";
            return null;
        }
    }

    /// <summary>The history page's first page filtered to <paramref name="workload"/>'s incidents, at <paramref name="incidentId"/>'s card when known.</summary>
    public static string LinkTo(WorkloadId workload, string? incidentId = null)
    {
        var filter = new HistoryFilter(workload.Namespace, workload.Name, null, null, null, HistoryFilter.DefaultLimit, null);
        return HistoryLinks.First(filter) + (incidentId is null ? "" : "#incident-" + Uri.EscapeDataString(incidentId));
    }
}
