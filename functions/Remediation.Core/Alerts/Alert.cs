namespace Remediation.Alerts;

/// <summary>Where an alert came from; part of the incident identity.</summary>
public enum AlertSource
{
    Alertmanager,
    AzureMonitor,
    EventGrid,
}

public enum AlertStatus
{
    Firing,
    Resolved,
}

/// <summary>
/// The Kubernetes object an alert is about. Kinds Deployment, StatefulSet, DaemonSet, Job and CronJob are workloads;
/// Pod, ReplicaSet and HorizontalPodAutoscaler are references the pipeline resolves to their owning workload through
/// the cluster (ownerReferences, scaleTargetRef), never by the shape of their names. Names are validated
/// (<see cref="KubernetesNames"/>) before a target is made.
/// </summary>
public sealed record WorkloadTarget(string Namespace, string Name, string Kind = WorkloadKinds.Deployment)
{
    public override string ToString() => $"{Namespace}/{Name}";

    /// <summary>kubectl's form: "deployment/checkout -n shop".</summary>
    public string Describe() => $"{Kind.ToLowerInvariant()}/{Name} -n {Namespace}";
}

/// <summary>The kinds a target can have.</summary>
public static class WorkloadKinds
{
    public const string Deployment = "Deployment";
    public const string StatefulSet = "StatefulSet";
    public const string DaemonSet = "DaemonSet";
    public const string Job = "Job";
    public const string CronJob = "CronJob";
    public const string ReplicaSet = "ReplicaSet";
    public const string Pod = "Pod";
    public const string HorizontalPodAutoscaler = "HorizontalPodAutoscaler";

    /// <summary>The workload kinds (owners); a bare pod is its own owner.</summary>
    public static readonly IReadOnlySet<string> Workloads = new HashSet<string>(StringComparer.Ordinal)
        { Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod };

    /// <summary>Kinds whose owner is looked up in the cluster before anything is decided (a Job may belong to a CronJob).</summary>
    public static bool HasOwnerToResolve(string kind) => kind is Pod or ReplicaSet or HorizontalPodAutoscaler or Job;
}

/// <summary>Why an alert has no target.</summary>
public enum TargetProblemKind
{
    /// <summary>The alert has a target.</summary>
    None,
    /// <summary>No label names a Kubernetes workload at all: a VM, a budget, service health, a node.</summary>
    NoWorkload,
    /// <summary>A label names a Kubernetes object but cannot be used (invalid name, no namespace, unknown kind): a human must see it.</summary>
    Invalid,
}

/// <summary>One alert in the product's own model, whatever its source.</summary>
public sealed record NormalizedAlert
{
    public required AlertSource Source { get; init; }
    public required string Name { get; init; }
    public required AlertStatus Status { get; init; }
    /// <summary>Identity of the alert series at its source (Alertmanager fingerprint, Azure alertId).</summary>
    public required string Fingerprint { get; init; }
    public required DateTimeOffset StartsAt { get; init; }
    public DateTimeOffset? EndsAt { get; init; }
    public string? Severity { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();
    public string? GeneratorUrl { get; init; }
    /// <summary>The workload the alert is about, or null when the labels do not name one.</summary>
    public WorkloadTarget? Target { get; init; }
    /// <summary>Why <see cref="Target"/> is null.</summary>
    public string? TargetProblem { get; init; }
    /// <summary>What kind of problem <see cref="TargetProblem"/> is: no workload named at all, or one named invalidly.</summary>
    public TargetProblemKind TargetProblemKind { get; init; }

    /// <summary>The incident this alert belongs to: one per alert series and start time.</summary>
    public string IncidentId => IncidentIdentity.For(Source, Fingerprint, StartsAt);
}
