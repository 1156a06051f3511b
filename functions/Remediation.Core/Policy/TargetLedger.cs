using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Remediation.Alerts;
using Remediation.Storage;

namespace Remediation.Policy;

/// <summary>Per-target action history (partition <see cref="KeyFor"/>), updated with ETags so racing workers serialize.</summary>
public sealed class TargetLedgerRecord : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "target";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string ActionTimesJson { get; set; } = "[]";
    public DateTimeOffset? LastActionAt { get; set; }
    public string? LastIncidentId { get; set; }
    public int ConsecutiveFailures { get; set; }
    /// <summary>The incident whose outcome was recorded last: an outcome is counted once (a retried write, a redelivery).</summary>
    public string? LastOutcomeIncidentId { get; set; }

    public List<DateTimeOffset> ActionTimes() =>
        JsonSerializer.Deserialize(ActionTimesJson, PolicyJsonContext.Default.ListDateTimeOffset) ?? [];

    /// <summary>
    /// The partition of a target: "target|{namespace}|{name}" for a Deployment (the key rows were written under before
    /// targets had kinds), "target|{namespace}|{name}|{kind}" for any other kind. Each part is escaped
    /// (<see cref="StorageKeys.Escape"/>), so any string makes a valid key, at most 1 KiB, distinct per target.
    /// </summary>
    public static string KeyFor(WorkloadTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var ns = StorageKeys.Escape(target.Namespace, NamespaceBudget);
        var name = StorageKeys.Escape(target.Name, NameBudget);
        return target.Kind == WorkloadKinds.Deployment
            ? StorageKeys.Join("target", ns, name)
            : StorageKeys.Join("target", ns, name, StorageKeys.Escape(target.Kind, KindBudget));
    }

    // Budgets in bytes (UTF-16, the larger measure for these names): a valid namespace (63 characters) and name
    // (253) fit unchanged, and "target" + 3 separators + the parts stay within 1 KiB.
    private const int NamespaceBudget = 160;
    private const int NameBudget = 680;
    private const int KindBudget = 160;
}

public enum GateVerdict
{
    Allowed,
    Refused,
    Escalated,
}

/// <summary>
/// The per-target safety limits of the policy: cooldown, actions per window, circuit breaker.
/// <para>
/// A target's last action only ever moves later (a slot is reserved only once the cooldown has passed, and nothing
/// clears it), so a target read to be in cooldown stays in cooldown until at least that last action plus the policy's
/// cooldown. A check that reads so, and a reservation (which starts the cooldown), remember that for
/// <see cref="CooldownMemo"/>, and a check then refuses for cooldown without reading the target
/// again: during an alert storm every alert of a target in cooldown cost a storage read that could only say no again.
/// The memo only ever refuses; an allowed target, an open breaker and every reservation are read from storage. Nothing
/// another process does can end a cooldown early, so the memo's length bounds only how long a breaker opened meanwhile by
/// another process goes unnamed in the refusal's reason (one opened by this process clears the memo at once).
/// </para>
/// </summary>
public sealed class TargetLedger(ITargetLedgerStore store, TimeProvider timeProvider)
{
    /// <summary>How long a target read to be in cooldown is refused for cooldown without reading it again.</summary>
    public static readonly TimeSpan CooldownMemo = TimeSpan.FromSeconds(60);

    /// <summary>Per target key: the last action read (only targets read to be in cooldown), at most 4,096 targets.</summary>
    private readonly ExpiringMemo<DateTimeOffset> _inCooldown = new(CooldownMemo, 4096, timeProvider);

    /// <summary>
    /// Reserves an action slot for the target, or says why not. Retries on ETag races. The first attempt decides on
    /// <paramref name="read"/> when given (the record a check read): if it changed since, the conditional save fails and
    /// the next attempt reads it.
    /// </summary>
    public async Task<(GateVerdict Verdict, string Reason)> TryReserveAsync(WorkloadTarget target, string incidentId, SafetyLimits limits, TargetLedgerRecord? read = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(limits);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var record = attempt == 0 && read is not null ? read : await GetAsync(target, cancellationToken).ConfigureAwait(false);
            if (record.LastIncidentId == incidentId)
            {
                return (GateVerdict.Allowed, "slot already reserved by this incident");
            }
            var verdict = Evaluate(record, limits);
            if (verdict.Verdict != GateVerdict.Allowed)
            {
                return verdict;
            }
            var now = timeProvider.GetUtcNow();
            var times = record.ActionTimes().Where(t => now - t < limits.Window).Append(now).ToList();
            record.ActionTimesJson = JsonSerializer.Serialize(times, PolicyJsonContext.Default.ListDateTimeOffset);
            record.LastActionAt = now;
            record.LastIncidentId = incidentId;
            if (await TrySaveAsync(record, cancellationToken).ConfigureAwait(false))
            {
                // The target is in cooldown from this action on: the alerts that follow it are refused from memory at once,
                // not only once a check has read the slot back.
                if (record.ConsecutiveFailures < limits.BreakerFailures)
                {
                    _inCooldown.Remember(record.PartitionKey, now);
                }
                return (GateVerdict.Allowed, $"action {times.Count} of {limits.MaxActionsPerWindow} in the {limits.Window} window");
            }
        }
        throw new TransientDependencyException("storage", $"could not reserve an action slot for {target}: too much contention");
    }

    /// <summary>Read-only check (the pipeline's check before diagnosis, plans, dry runs); a cooldown may be answered from the memo.</summary>
    public async Task<(GateVerdict Verdict, string Reason)> CheckAsync(WorkloadTarget target, SafetyLimits limits, CancellationToken cancellationToken = default)
    {
        var (verdict, reason, _) = await CheckReadingAsync(target, limits, cancellationToken).ConfigureAwait(false);
        return (verdict, reason);
    }

    /// <summary>As <see cref="CheckAsync"/>, with the record read (null when the memo answered), for a reservation to start from.</summary>
    public async Task<(GateVerdict Verdict, string Reason, TargetLedgerRecord? Read)> CheckReadingAsync(WorkloadTarget target, SafetyLimits limits,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(limits);
        if (RememberedRefusal(target, limits) is { } remembered)
        {
            return (remembered.Verdict, remembered.Reason, null);
        }
        var key = TargetLedgerRecord.KeyFor(target);
        var now = timeProvider.GetUtcNow();
        var record = await store.GetAsync(key, cancellationToken).ConfigureAwait(false);
        var verdict = Evaluate(record, limits);
        if (record.LastActionAt is { } last && record.ConsecutiveFailures < limits.BreakerFailures && now - last < limits.Cooldown)
        {
            _inCooldown.Remember(key, last);
        }
        else
        {
            _inCooldown.Forget(key);
        }
        return (verdict.Verdict, verdict.Reason, record);
    }

    /// <summary>
    /// Records an incident's verified outcome: failures count toward the circuit breaker, a success resets it. Counted once
    /// per incident: when the record already names <paramref name="incidentId"/> as its last outcome (this write landed
    /// and its answer was lost, so the retry was told the record changed), it is not counted again.
    /// </summary>
    public async Task RecordOutcomeAsync(WorkloadTarget target, string incidentId, bool succeeded, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(incidentId);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var record = await GetAsync(target, cancellationToken).ConfigureAwait(false);
            if (record.LastOutcomeIncidentId == incidentId)
            {
                return;
            }
            record.ConsecutiveFailures = succeeded ? 0 : record.ConsecutiveFailures + 1;
            record.LastOutcomeIncidentId = incidentId;
            if (await TrySaveAsync(record, cancellationToken).ConfigureAwait(false))
            {
                // The breaker may have opened: the next check reads it.
                _inCooldown.Forget(record.PartitionKey);
                return;
            }
        }
        throw new TransientDependencyException("storage", $"could not record the outcome for {target}: too much contention");
    }

    public Task<TargetLedgerRecord> GetAsync(WorkloadTarget target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        return store.GetAsync(TargetLedgerRecord.KeyFor(target), cancellationToken);
    }

    private (GateVerdict Verdict, string Reason) Evaluate(TargetLedgerRecord record, SafetyLimits limits)
    {
        var now = timeProvider.GetUtcNow();
        if (record.ConsecutiveFailures >= limits.BreakerFailures)
        {
            return (GateVerdict.Escalated, $"circuit breaker open: {record.ConsecutiveFailures} failed remediations in a row on this target; a human must look");
        }
        if (record.LastActionAt is { } last && now - last < limits.Cooldown)
        {
            return CooldownRefusal(now, last, limits);
        }
        var inWindow = record.ActionTimes().Count(t => now - t < limits.Window);
        if (inWindow >= limits.MaxActionsPerWindow)
        {
            return (GateVerdict.Refused, $"limit: {inWindow} actions in the last {limits.Window} (max {limits.MaxActionsPerWindow})");
        }
        return (GateVerdict.Allowed, "within limits");
    }

    /// <summary>The cooldown this process read or started lately for the target (see the remarks), answered without a read; null when none.</summary>
    public (GateVerdict Verdict, string Reason)? RememberedRefusal(WorkloadTarget target, SafetyLimits limits)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(limits);
        var now = timeProvider.GetUtcNow();
        return _inCooldown.TryGet(TargetLedgerRecord.KeyFor(target), out var lastAction, out _) && now - lastAction < limits.Cooldown
            ? CooldownRefusal(now, lastAction, limits)
            : null;
    }

    private static (GateVerdict Verdict, string Reason) CooldownRefusal(DateTimeOffset now, DateTimeOffset last, SafetyLimits limits) =>
        (GateVerdict.Refused, $"cooldown: last action {(int)(now - last).TotalSeconds}s ago, cooldown is {DurationText.Format(limits.Cooldown)}");

    private Task<bool> TrySaveAsync(TargetLedgerRecord record, CancellationToken cancellationToken) => store.TrySaveAsync(record, cancellationToken);
}
