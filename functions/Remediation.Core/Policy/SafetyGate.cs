using Remediation.Alerts;
using Remediation.Storage;

namespace Remediation.Policy;

/// <summary>
/// The one place that decides whether the product may act: the policy's allow/deny lists, the target's cooldown,
/// action budget and circuit breaker (<see cref="TargetLedger"/>), and the global concurrency cap (the remediations in
/// flight). The pipeline checks and then reserves through it; the planner, <c>remediation plan</c>, replay and dry runs
/// check through it, so what they report is what a live run would decide.
/// </summary>
public sealed class SafetyGate(PolicyProvider policyProvider, TargetLedger ledger, IInFlightRemediations inFlight, TimeProvider timeProvider)
{
    /// <summary>Null when the namespace may be touched, else why not. Checked before anything in it is read.</summary>
    public string? NamespaceRefusal(string ns) => policyProvider.Current.NamespaceRefusal(ns);

    /// <summary>Null when the policy allows acting on the workload, else why not.</summary>
    public string? Refusal(WorkloadTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return policyProvider.Current.RefusalFor(target.Namespace, target.Name);
    }

    /// <summary>
    /// The target's own limits refusing it from the ledger's memory (a cooldown this process read or started lately), without a read;
    /// null when nothing is remembered (then only <see cref="CheckAsync"/> can say).
    /// </summary>
    public (GateVerdict Verdict, string Reason)? RememberedRefusal(WorkloadTarget target) => ledger.RememberedRefusal(target, policyProvider.Current.Limits);

    /// <summary>
    /// Reads the target's limits and the remediations in flight other than <paramref name="incidentId"/>; changes nothing.
    /// With <paramref name="countWhenRefused"/> false, a target its own limits refuse is reported without counting the
    /// remediations in flight (the query is saved; the caller stops on the target's verdict and never reads the count,
    /// which is then 0).
    /// </summary>
    public async Task<GateCheck> CheckAsync(WorkloadTarget target, string incidentId, bool countWhenRefused = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentException.ThrowIfNullOrEmpty(incidentId);
        var limits = policyProvider.Current.Limits;
        var (verdict, reason, read) = await ledger.CheckReadingAsync(target, limits, cancellationToken).ConfigureAwait(false);
        var running = verdict == GateVerdict.Allowed || countWhenRefused ? await CountInFlightAsync(incidentId, cancellationToken).ConfigureAwait(false) : 0;
        return new GateCheck(verdict, reason, running, limits.MaxConcurrent) { LedgerRead = read };
    }

    /// <summary>The remediations in flight now, other than <paramref name="incidentId"/>'s (one read; changes nothing).</summary>
    public Task<int> CountInFlightAsync(string incidentId, CancellationToken cancellationToken = default) =>
        inFlight.CountInFlightAsync(incidentId, timeProvider.GetUtcNow(), cancellationToken);

    /// <summary>Gives back the incident's place under the concurrency cap (its in-flight row).</summary>
    public Task ReleaseAsync(string incidentId, CancellationToken cancellationToken = default) =>
        inFlight.RemoveInFlightAsync(incidentId, cancellationToken);

    /// <summary>
    /// Takes the target's action slot if <paramref name="running"/> (a <see cref="CountInFlightAsync"/> read just before)
    /// leaves a place under the concurrency cap, or says why not. The cap is checked first, so a remediation stopped by it
    /// spends none of the target's budget. The target's record read by <paramref name="checkedBefore"/> is where the
    /// reservation starts (re-read if it changed since). On success the caller registers the remediation in flight
    /// (<see cref="RegisterAsync"/>) before it mutates anything.
    /// </summary>
    public async Task<GateCheck> ReserveAsync(WorkloadTarget target, string incidentId, int running, GateCheck? checkedBefore = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentException.ThrowIfNullOrEmpty(incidentId);
        var limits = policyProvider.Current.Limits;
        if (running >= limits.MaxConcurrent)
        {
            return new GateCheck(GateVerdict.Allowed, "target limits not consulted", running, limits.MaxConcurrent);
        }
        var (verdict, reason) = await ledger.TryReserveAsync(target, incidentId, limits, checkedBefore?.LedgerRead, cancellationToken).ConfigureAwait(false);
        return new GateCheck(verdict, reason, running, limits.MaxConcurrent);
    }

    /// <summary>
    /// Counts a reserved remediation in flight for <paramref name="hold"/> (until it concludes, or its removal is known
    /// lost). Idempotent: a resumed remediation registers again.
    /// </summary>
    public Task RegisterAsync(string incidentId, TimeSpan hold, CancellationToken cancellationToken = default) =>
        inFlight.AddInFlightAsync(incidentId, timeProvider.GetUtcNow() + hold, cancellationToken);
}

/// <summary>
/// What the safety gate found: the target's own limits (cooldown, budget, breaker) and the remediations in flight
/// against the global cap. The target's limits are reported first; a reached cap escalates (a wide outage needs a human).
/// </summary>
public sealed record GateCheck(GateVerdict TargetVerdict, string TargetReason, int InFlight, int MaxConcurrent)
{
    /// <summary>The target's ledger record the check read (null when it answered from memory): a reservation starts from it.</summary>
    internal TargetLedgerRecord? LedgerRead { get; init; }

    /// <summary>The check of an incident that already holds its target's slot and its place under the cap.</summary>
    public static GateCheck Held(string reason) => new(GateVerdict.Allowed, reason, 0, int.MaxValue);

    public bool CapReached => InFlight >= MaxConcurrent;

    public GateVerdict Verdict => TargetVerdict != GateVerdict.Allowed ? TargetVerdict : CapReached ? GateVerdict.Escalated : GateVerdict.Allowed;

    public string Reason => TargetVerdict != GateVerdict.Allowed ? TargetReason
        : CapReached ? $"global concurrency cap: {InFlight} remediations already in flight (max {MaxConcurrent}); a wide outage needs a human"
        : TargetReason;

    /// <summary>One line for <c>remediation plan</c>: the verdict, the target's limits and the concurrency cap.</summary>
    public string Describe()
    {
        var cap = CapReached
            ? $"concurrency cap {MaxConcurrent} reached ({InFlight} remediations in flight)"
            : $"{InFlight} of {MaxConcurrent} remediations in flight";
        var verdict = Verdict switch { GateVerdict.Allowed => "allowed", GateVerdict.Refused => "refused", _ => "escalated" };
        return $"{verdict}: {TargetReason}; {cap}";
    }
}
