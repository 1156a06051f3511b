namespace Remediation.Diagnosis;

/// <summary>What one analyser concluded: the failure class, the suspected component, how sure, and its own evidence.</summary>
public sealed record Finding(FailureClass Class, string Component, double Confidence, string Summary)
{
    /// <summary>Evidence only this finding adds (the workload's evidence is added by the diagnoser).</summary>
    public IReadOnlyList<Evidence> Evidence { get; init; } = [];
    public long? FailingRevision { get; init; }
    public long? HealthyRevision { get; init; }
    public string? DegradedVersion { get; init; }
    public IReadOnlyList<string> HealthyVersions { get; init; } = [];
    /// <summary>The service graph the finding was decided on (see <see cref="DiagnosisResult.Graph"/>).</summary>
    public ServiceGraph.ServiceGraphFinding? Graph { get; init; }
}

/// <summary>
/// One failure class's diagnosis over the shared <see cref="WorkloadView"/>: null when the class does not apply.
/// Analysers read only through the view, so every source is read once per diagnosis whichever analysers run.
/// </summary>
public interface IWorkloadAnalyser
{
    Task<Finding?> AnalyseAsync(WorkloadView view, CancellationToken cancellationToken = default);
}
