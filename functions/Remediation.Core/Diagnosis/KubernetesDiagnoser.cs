using Remediation.Alerts;
using Remediation.Cluster;

namespace Remediation.Diagnosis;

/// <summary>
/// Diagnoses a Deployment: reads it once into a <see cref="WorkloadView"/> (the Deployment, its ReplicaSets by revision, the
/// pods of the newest one; then, as the path needs them, Warning events, the HPA and the Istio routing: at most 6
/// Kubernetes reads) plus, when configured, Istio golden signals per version (Prometheus) and Container insights (Log
/// Analytics). The analysers run in <see cref="WorkloadAnalysers.InPrecedence"/> order; the first finding decides, with all
/// evidence gathered. Optional sources degrade the diagnosis (<see cref="DiagnosisResult.Unavailable"/>); the Kubernetes
/// API being unreachable surfaces as a TransientDependencyException.
/// </summary>
public sealed class KubernetesDiagnoser(
    IClusterReader reader,
    TimeProvider timeProvider,
    IMeshSignals? mesh = null,
    IContainerInsights? insights = null,
    DiagnosisOptions? options = null,
    IReadOnlyList<IWorkloadAnalyser>? analysers = null,
    ServiceGraph.IServiceGraphSource? graph = null,
    Func<ServiceGraph.BlameOptions>? blame = null) : IDiagnoser
{
    private readonly DiagnosisOptions _options = options ?? new DiagnosisOptions();
    private readonly IReadOnlyList<IWorkloadAnalyser> _analysers = analysers ?? WorkloadAnalysers.InPrecedence;

    public async Task<DiagnosisResult> DiagnoseAsync(NormalizedAlert alert, WorkloadTarget target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(target);
        using var run = new DiagnosisRun(_options, timeProvider, target, cancellationToken);
        if (mesh is null)
        {
            run.Unavailable("prometheus", "not configured (Remediation:Prometheus:Url)");
        }
        var view = await WorkloadView.ReadAsync(run, new WorkloadSources(reader, mesh, insights, graph, blame?.Invoke()), _options, timeProvider, target, cancellationToken).ConfigureAwait(false);
        if (view is null)
        {
            return run.Finish(new Finding(FailureClass.NotFound, target.ToString(), 1, $"Deployment {target} does not exist"),
                [new Evidence("kubernetes", $"GET deployments/{target.Name} in {target.Namespace}: 404 Not Found")]);
        }
        StartPathReads(view);
        var finding = await AnalyseAsync(view, cancellationToken).ConfigureAwait(false);
        finding = finding with { Graph = finding.Graph ?? view.GraphFinding };
        return run.Finish(finding, await EvidenceAsync(view, finding).ConfigureAwait(false));
    }

    /// <summary>Starts the optional reads the path shows as evidence, so they run while the analysers decide.</summary>
    private static void StartPathReads(WorkloadView view)
    {
        if (view.HasFailingPods)
        {
            _ = view.PodEventsAsync();
            _ = view.ErrorLinesAsync();
        }
        else
        {
            _ = view.HpaAsync();
        }
    }

    private async Task<Finding> AnalyseAsync(WorkloadView view, CancellationToken cancellationToken)
    {
        foreach (var analyser in _analysers)
        {
            if (await analyser.AnalyseAsync(view, cancellationToken).ConfigureAwait(false) is { } finding)
            {
                return finding;
            }
        }
        return await UnexplainedAsync(view).ConfigureAwait(false);
    }

    /// <summary>No analyser found anything: the dominant pod failure as such, else unknown.</summary>
    private static async Task<Finding> UnexplainedAsync(WorkloadView view)
    {
        if (view.DominantFailure is { } dominant)
        {
            return new Finding(dominant, view.RevisionComponent, 0.75, $"{view.Share(dominant)} of {view.Target}: {dominant}");
        }
        var why = (await view.SignalsAsync().ConfigureAwait(false)).MetricsUnavailable;
        return new Finding(FailureClass.Unknown, view.Target.ToString(), 0.3,
            (why is null ? "" : $"metrics unavailable: {why}; ")
            + (view.Pods.Count == 0 ? $"{view.Target} has no pods of its newest revision" : $"{view.Target}: no failing container state found"));
    }

    /// <summary>
    /// The workload's evidence, then the path's (failing pods: their events, Container insights and error lines; running
    /// pods: Container insights and the HPA), the mesh signals (the degraded version marked), then the finding's own.
    /// </summary>
    private async Task<List<Evidence>> EvidenceAsync(WorkloadView view, Finding finding)
    {
        var evidence = WorkloadEvidence.Workload(view);
        if (view.HasFailingPods)
        {
            evidence.AddRange(WorkloadEvidence.Events(await view.PodEventsAsync().ConfigureAwait(false), _options.MaxEvents));
            evidence.AddRange(WorkloadEvidence.Inventory(await view.InventoryAsync().ConfigureAwait(false)));
            evidence.AddRange(WorkloadEvidence.Logs(await view.ErrorLinesAsync().ConfigureAwait(false), _options.MaxLogLines));
        }
        else
        {
            evidence.AddRange(WorkloadEvidence.Inventory(await view.InventoryAsync().ConfigureAwait(false)));
            evidence.AddRange(WorkloadEvidence.Hpa(await view.HpaAsync().ConfigureAwait(false)));
        }
        evidence.AddRange(WorkloadEvidence.Signals(await view.SignalsAsync().ConfigureAwait(false), finding.DegradedVersion));
        evidence.AddRange(finding.Evidence);
        return evidence;
    }
}
