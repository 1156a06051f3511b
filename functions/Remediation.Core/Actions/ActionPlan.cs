using System.Text.Json.Nodes;
using Remediation.Alerts;
using Remediation.Cluster;

namespace Remediation.Actions;

/// <summary>
/// What an action will do, computed from the cluster's current state without mutating it. The same plan
/// drives the dry run (dryRun=All) and the live run, so the two cannot differ.
/// </summary>
public sealed record ActionPlan
{
    public required string Action { get; init; }
    public required WorkloadTarget Target { get; init; }
    public required string Summary { get; init; }
    public required IReadOnlyList<Mutation> Mutations { get; init; }
    /// <summary>The fields the plan changes, as they were before (for the record and for reverting).</summary>
    public required JsonObject PriorState { get; init; }
    /// <summary>What verification checks once the mutations are applied.</summary>
    public required VerificationSpec Verify { get; init; }
    /// <summary>Mutations that restore <see cref="PriorState"/> if verification fails (empty when not revertible).</summary>
    public IReadOnlyList<Mutation> Revert { get; init; } = [];
}

/// <summary>Verification criteria: rollout complete (generation observed, replicas ready) and/or error ratio under a bound.</summary>
public sealed record VerificationSpec
{
    public bool RolloutComplete { get; init; }
    public string? Deployment { get; init; }
    public double? MaxErrorRatio { get; init; }
    public string? MetricsWorkload { get; init; }
    /// <summary>Service whose overall error ratio is checked (traffic shifts).</summary>
    public string? MetricsService { get; init; }
    public TimeSpan Deadline { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>The checks must pass continuously from the action until at least this long after it.</summary>
    public TimeSpan Soak { get; init; } = TimeSpan.FromMinutes(1);
}
