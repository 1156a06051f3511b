using Remediation.Alerts;

namespace Remediation.Diagnosis;

/// <summary>What is wrong with the target, as far as the evidence shows.</summary>
public enum FailureClass
{
    /// <summary>The newest revision fails while the previous one was healthy: roll back.</summary>
    BadRollout,
    /// <summary>Pods crash-loop without a recent change: a restart may help.</summary>
    CrashLoop,
    /// <summary>Containers are OOMKilled: a restart will not help.</summary>
    OutOfMemory,
    ImagePull,
    Unschedulable,
    /// <summary>One version subset is degraded while another is healthy: shift traffic.</summary>
    DegradedVersion,
    /// <summary>Latency or CPU high with no errors to speak of: scale out.</summary>
    Saturation,
    /// <summary>The workload is healthy now: the alert is stale.</summary>
    Healthy,
    /// <summary>The target does not exist in the cluster.</summary>
    NotFound,
    Unknown,
    /// <summary>The workload fails only because a workload it calls fails (service-graph blame): the component is the culprit; never acted on.</summary>
    Victim,
}

/// <summary>One fact behind a diagnosis: human-readable text plus structured data.</summary>
public sealed record Evidence(string Source, string Text, IReadOnlyDictionary<string, string>? Data = null);

/// <summary>The diagnosis stage's result.</summary>
public sealed record DiagnosisResult
{
    public required FailureClass Class { get; init; }
    public required WorkloadTarget Target { get; init; }
    /// <summary>The suspected component: workload, revision ("checkout@2") or version subset ("reviews:v2").</summary>
    public required string Component { get; init; }
    public required double Confidence { get; init; }
    public required string Summary { get; init; }
    public IReadOnlyList<Evidence> Evidence { get; init; } = [];
    /// <summary>Data sources that could not be consulted, and why.</summary>
    public IReadOnlyList<string> Unavailable { get; init; } = [];
    /// <summary>For BadRollout: the revision to go back to.</summary>
    public long? HealthyRevision { get; init; }
    public long? FailingRevision { get; init; }
    /// <summary>For DegradedVersion: the degraded version and the healthy ones.</summary>
    public string? DegradedVersion { get; init; }
    public IReadOnlyList<string> HealthyVersions { get; init; } = [];
    /// <summary>The service graph around the workload and the blame decided on it, when the mesh telemetry was read.</summary>
    public ServiceGraph.ServiceGraphFinding? Graph { get; init; }
}

/// <summary>Finds the failing component behind an alert. Reads only.</summary>
public interface IDiagnoser
{
    Task<DiagnosisResult> DiagnoseAsync(NormalizedAlert alert, WorkloadTarget target, CancellationToken cancellationToken = default);
}
