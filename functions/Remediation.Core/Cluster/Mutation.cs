namespace Remediation.Cluster;

/// <summary>The kinds of change the product can make. Each maps to one Kubernetes API call.</summary>
public enum MutationKind
{
    PatchDeployment,
    PatchDeploymentScale,
    PatchHorizontalPodAutoscaler,
    PatchVirtualService,
    PatchHttpRoute,
    DeletePod,
}

/// <summary>One API call of a plan: what it changes, the patch body, and the resourceVersion it was computed from.</summary>
public sealed record Mutation
{
    public required MutationKind Kind { get; init; }
    public required string Namespace { get; init; }
    public required string Name { get; init; }
    /// <summary>merge or json (JSON Patch); the body carries the resourceVersion precondition where the API honours it.</summary>
    public string PatchType { get; init; } = "merge";
    public string? Patch { get; init; }
    public string? ResourceVersion { get; init; }
    public required string Description { get; init; }
}
