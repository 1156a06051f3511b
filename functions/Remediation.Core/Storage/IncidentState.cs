using System.Collections.Frozen;

namespace Remediation.Storage;

/// <summary>
/// The states of an incident. The summary row stores the state's name (<see cref="object.ToString"/>), so a member is
/// never renamed. A new state is one edit in one place: a member here and its row in <see cref="IncidentLifecycle"/>
/// below (a state without a row fails at start).
/// </summary>
public enum IncidentState
{
    /// <summary>Claimed; its work item is queued or being processed.</summary>
    Received,
    /// <summary>A worker holds the intent and is applying the plan.</summary>
    Acting,
    /// <summary>Applied; awaiting its verification.</summary>
    Verifying,
    Succeeded,
    Failed,
    Escalated,
    Refused,
    NoAction,
    DryRun,
    /// <summary>Only a resolved notification was seen for this incident.</summary>
    Resolved,
    /// <summary>The alert names no Kubernetes workload and the policy ignores such alerts (unmappedAlerts: ignore): recorded, not paged.</summary>
    Ignored,
    /// <summary>
    /// The alerted workload fails only because a workload it calls fails (service-graph blame): never acted on; linked
    /// to the culprit's incident (GroupId) and closed when it closes.
    /// </summary>
    Victim,
    /// <summary>
    /// An alert for a workload whose remediation is already open in a group (it leads it, e.g. a cascade's culprit): never
    /// acted on again; linked to the lead (GroupId) and closed when it closes.
    /// </summary>
    Grouped,
    /// <summary>
    /// The plan is recorded and waits for a person (mode approve) until its deadline: approved, it is acted on exactly as
    /// recorded; rejected, it is Refused; unanswered by the deadline, it is Escalated.
    /// </summary>
    AwaitingApproval,
}

/// <summary>
/// Where each state may move: the one table of an incident's transitions. A state with no successor is terminal (it
/// never changes again). Staying in a state is always allowed (a writer that changes other fields only).
/// </summary>
public static class IncidentLifecycle
{
    /// <summary>A decision that takes no action on the alerted workload ends an incident in one of these, from Received or Acting.</summary>
    private static readonly IncidentState[] Decided =
        [IncidentState.Refused, IncidentState.Escalated, IncidentState.NoAction, IncidentState.Ignored, IncidentState.Victim, IncidentState.Grouped];

    private static readonly FrozenDictionary<IncidentState, IncidentState[]> Moves = new Dictionary<IncidentState, IncidentState[]>
    {
        // Acting: a worker took the intent. Failed: the poison handler gave up on its work item.
        // AwaitingApproval: the decision to act under mode approve.
        [IncidentState.Received] = [IncidentState.Acting, IncidentState.AwaitingApproval, IncidentState.Failed, .. Decided],
        // The outcome of acting (Verifying, Failed, DryRun) or a decision recorded on resuming an interrupted worker;
        // AwaitingApproval again: the approved plan's preconditions failed and the re-planned incident asks anew.
        [IncidentState.Acting] = [IncidentState.Verifying, IncidentState.Failed, IncidentState.DryRun, IncidentState.AwaitingApproval, .. Decided],
        // Approved (Acting), rejected (Refused), unanswered by the deadline (Escalated), or the poison handler's Failed.
        [IncidentState.AwaitingApproval] = [IncidentState.Acting, IncidentState.Refused, IncidentState.Escalated, IncidentState.Failed],
        // The verifier's verdict (Escalated: could not be verified), or the poison handler's Failed.
        [IncidentState.Verifying] = [IncidentState.Succeeded, IncidentState.Failed, IncidentState.Escalated],
        [IncidentState.Succeeded] = [],
        [IncidentState.Failed] = [],
        [IncidentState.Escalated] = [],
        [IncidentState.Refused] = [],
        [IncidentState.NoAction] = [],
        [IncidentState.DryRun] = [],
        [IncidentState.Resolved] = [],
        [IncidentState.Ignored] = [],
        [IncidentState.Victim] = [],
        [IncidentState.Grouped] = [],
    }.ToFrozenDictionary();

    /// <summary>Every state, in declaration order.</summary>
    public static IReadOnlyList<IncidentState> All { get; } = CheckComplete();

    /// <summary>The states an incident is still being worked on in (the sweep reads these).</summary>
    public static IReadOnlyList<IncidentState> Open { get; } = [.. All.Where(s => !IsTerminal(s))];

    /// <summary>True when the state never changes again.</summary>
    public static bool IsTerminal(IncidentState state) => Moves[state].Length == 0;

    /// <summary>True when an incident in <paramref name="from"/> may be moved to <paramref name="to"/> (or stay).</summary>
    public static bool CanMove(IncidentState from, IncidentState to) => from == to || Moves[from].Contains(to);

    /// <summary>The state named <paramref name="name"/> exactly as stored; false for anything else.</summary>
    public static bool TryParse(string? name, out IncidentState state)
    {
        state = default;
        return name is { Length: > 0 } && !char.IsAsciiDigit(name[0]) && name[0] != '-'
            && Enum.TryParse(name, ignoreCase: false, out state) && Enum.IsDefined(state);
    }

    private static IncidentState[] CheckComplete()
    {
        var all = Enum.GetValues<IncidentState>();
        if (all.FirstOrDefault(s => !Moves.ContainsKey(s)) is var missing && !Moves.ContainsKey(missing))
        {
            throw new InvalidOperationException($"incident state {missing} has no row in the transition table");
        }
        return all;
    }
}
