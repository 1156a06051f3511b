namespace Remediation.Storage;

/// <summary>What processing or verifying one work item came to.</summary>
public enum WorkStatus
{
    /// <summary>The incident was worked on (or needed nothing more); <see cref="WorkResult.State"/> is its state now.</summary>
    Processed,
    /// <summary>No incident with the work item's id: the item was ignored.</summary>
    Missing,
    /// <summary>The message could not be read: dropped.</summary>
    Malformed,
    /// <summary>Another check concluded the incident since it was listed; not counted by this one.</summary>
    ConcludedElsewhere,
    /// <summary>Processing the item threw; the message is retried.</summary>
    Failed,
}

/// <summary>The result of one work item: a status and, when there is an incident, its state afterwards.</summary>
public sealed record WorkResult(WorkStatus Status, IncidentState? State = null)
{
    public static WorkResult Missing { get; } = new(WorkStatus.Missing);
    public static WorkResult Malformed { get; } = new(WorkStatus.Malformed);
    public static WorkResult ConcludedElsewhere { get; } = new(WorkStatus.ConcludedElsewhere);
    public static WorkResult Failed { get; } = new(WorkStatus.Failed);

    public static WorkResult In(IncidentState state) => new(WorkStatus.Processed, state);

    public override string ToString() => State is { } state ? state.ToString() : Status.ToString();
}
