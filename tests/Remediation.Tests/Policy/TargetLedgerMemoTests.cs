using Azure;
using CsCheck;
using Microsoft.Extensions.Time.Testing;
using Remediation.Alerts;
using Remediation.Policy;

namespace Remediation.Tests.Policy;

/// <summary>
/// The ledger answers a target in cooldown from memory for <see cref="TargetLedger.CooldownMemo"/> (an alert storm's
/// refused alerts read it once per target, not once each), and the memo never changes a verdict: in one process it is
/// always the verdict a fresh read gives, whatever the sequence of checks, reservations, outcomes and time.
/// </summary>
public sealed class TargetLedgerMemoTests
{
    private static readonly DateTimeOffset Start = new(2031, 3, 14, 9, 0, 0, TimeSpan.Zero);
    private static readonly SafetyLimits Limits = new() { Cooldown = TimeSpan.FromMinutes(1), Window = TimeSpan.FromMinutes(10), MaxActionsPerWindow = 3, BreakerFailures = 2 };
    private static readonly WorkloadTarget[] Targets = [new("shop", "checkout"), new("shop", "payments"), new("shop", "checkout", WorkloadKinds.StatefulSet)];

    [Fact]
    public async Task A_target_in_cooldown_is_refused_without_a_read_until_the_memo_expires()
    {
        // A cooldown longer than the memo, so the memo expires while the target is still in cooldown.
        var limits = Limits with { Cooldown = TargetLedger.CooldownMemo * 10 };
        var (ledger, store, time) = New();
        Assert.Equal(GateVerdict.Allowed, (await ledger.TryReserveAsync(Targets[0], "a", limits)).Verdict);
        var reads = store.Reads;

        // The reservation remembered the cooldown it started: no read until the memo expires.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(GateVerdict.Refused, (await ledger.CheckAsync(Targets[0], limits)).Verdict);
        time.Advance(TargetLedger.CooldownMemo - TimeSpan.FromSeconds(10) - TimeSpan.FromMilliseconds(1));
        var (verdict, reason) = await ledger.CheckAsync(Targets[0], limits);
        Assert.Equal((GateVerdict.Refused, reads), (verdict, store.Reads));
        Assert.StartsWith($"cooldown: last action {(int)TargetLedger.CooldownMemo.TotalSeconds - 1}s ago", reason, StringComparison.Ordinal);

        // Expired: read once, remembered again from that read.
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(GateVerdict.Refused, (await ledger.CheckAsync(Targets[0], limits)).Verdict);
        Assert.Equal(reads + 1, store.Reads);
        time.Advance(TargetLedger.CooldownMemo - TimeSpan.FromMilliseconds(1));
        Assert.Equal(GateVerdict.Refused, (await ledger.CheckAsync(Targets[0], limits)).Verdict);
        Assert.Equal(reads + 1, store.Reads);
        // Another target is read: the memo is per target.
        Assert.Equal(GateVerdict.Allowed, (await ledger.CheckAsync(Targets[1], limits)).Verdict);
        Assert.Equal(reads + 2, store.Reads);
    }

    [Fact]
    public async Task A_breaker_this_process_opens_is_seen_at_the_next_check_and_an_open_breaker_is_always_read()
    {
        var (ledger, store, time) = New();
        await ledger.TryReserveAsync(Targets[0], "a", Limits);
        time.Advance(TimeSpan.FromSeconds(1));
        await ledger.RecordOutcomeAsync(Targets[0], "a", succeeded: false);
        Assert.Equal(GateVerdict.Refused, (await ledger.CheckAsync(Targets[0], Limits)).Verdict);

        await ledger.RecordOutcomeAsync(Targets[0], "b", succeeded: false);
        var reads = store.Reads;
        Assert.Equal(GateVerdict.Escalated, (await ledger.CheckAsync(Targets[0], Limits)).Verdict);
        Assert.Equal(GateVerdict.Escalated, (await ledger.CheckAsync(Targets[0], Limits)).Verdict);
        Assert.Equal(reads + 2, store.Reads);
    }

    private enum Op
    {
        Check,
        Reserve,
        Succeeded,
        Failed,
        Wait,
    }

    private static readonly Gen<(Op Op, int Target, int Seconds)[]> Sequences =
        Gen.Select(Gen.Enum<Op>(), Gen.Int[0, Targets.Length - 1], Gen.Int[0, 90]).Array[1, 60];

    [Fact]
    public async Task Property_the_memo_gives_the_verdict_a_fresh_read_gives()
    {
        var pcg = new PCG(13, 20261130);
        var memoAnswers = 0;
        for (var i = 0; i < 400; i++)
        {
            var sequence = Sequences.Generate(pcg, null, out _);
            var (ledger, store, time) = New();
            var incident = 0;
            foreach (var (op, t, seconds) in sequence)
            {
                var target = Targets[t];
                switch (op)
                {
                    case Op.Check:
                        var reads = store.Reads;
                        var memo = await ledger.CheckAsync(target, Limits);
                        memoAnswers += store.Reads == reads ? 1 : 0;
                        var fresh = await new TargetLedger(store, time).CheckAsync(target, Limits);
                        Assert.True(fresh == memo, $"sequence {i}: {string.Join(", ", sequence)}: {memo} where a fresh read says {fresh}");
                        break;
                    case Op.Reserve:
                        await ledger.TryReserveAsync(target, $"incident-{incident++}", Limits);
                        break;
                    case Op.Succeeded or Op.Failed:
                        await ledger.RecordOutcomeAsync(target, $"incident-{incident++}", op == Op.Succeeded);
                        break;
                    default:
                        time.Advance(TimeSpan.FromSeconds(seconds) / 10);
                        break;
                }
            }
        }
        // The property is not vacuous: the memo answered a good share of the checks.
        Assert.True(memoAnswers > 100, $"the memo answered only {memoAnswers} checks");
    }

    /// <summary>
    /// Two processes check and reserve the same targets, each reservation starting from a record its process read some
    /// time before (as the pipeline reserves after diagnosis from the record its check read): however stale, no two
    /// reservations of a target are closer than the cooldown and none goes past the window's budget.
    /// </summary>
    [Fact]
    public async Task Property_a_reservation_from_a_stale_read_never_breaks_the_cooldown_or_the_budget()
    {
        var pcg = new PCG(17, 20261130);
        var reserved = 0;
        for (var i = 0; i < 400; i++)
        {
            var sequence = Sequences.Generate(pcg, null, out _);
            var (first, store, time) = New();
            TargetLedger[] ledgers = [first, new TargetLedger(store, time)];
            var reads = new TargetLedgerRecord?[ledgers.Length, Targets.Length];
            var granted = Targets.Select(_ => new List<DateTimeOffset>()).ToArray();
            var incident = 0;
            foreach (var (op, t, seconds) in sequence)
            {
                var process = seconds % 2;
                switch (op)
                {
                    case Op.Check:
                        reads[process, t] = (await ledgers[process].CheckReadingAsync(Targets[t], Limits)).Read;
                        break;
                    case Op.Reserve:
                        var (verdict, reason) = await ledgers[process].TryReserveAsync(Targets[t], $"incident-{incident++}", Limits, reads[process, t]);
                        if (verdict == GateVerdict.Allowed)
                        {
                            Assert.DoesNotContain("already reserved", reason, StringComparison.Ordinal);
                            var now = time.GetUtcNow();
                            if (granted[t].Count > 0 && now - granted[t][^1] < Limits.Cooldown)
                            {
                                Assert.Fail($"sequence {i}: reserved {now - granted[t][^1]} after the last one");
                            }
                            Assert.True(granted[t].Count(g => now - g < Limits.Window) < Limits.MaxActionsPerWindow, $"sequence {i}: budget exceeded");
                            granted[t].Add(now);
                            reserved++;
                        }
                        break;
                    case Op.Succeeded or Op.Failed:
                        await ledgers[process].RecordOutcomeAsync(Targets[t], $"incident-{incident++}", op == Op.Succeeded);
                        break;
                    default:
                        time.Advance(TimeSpan.FromSeconds(seconds));
                        break;
                }
            }
        }
        Assert.True(reserved > 100, $"only {reserved} reservations granted");
    }

    private static (TargetLedger Ledger, CountingStore Store, FakeTimeProvider Time) New()
    {
        var time = new FakeTimeProvider(Start);
        var store = new CountingStore();
        return (new TargetLedger(store, time), store, time);
    }

    /// <summary>An in-memory ledger store with ETags (copies in and out, as storage does) that counts reads.</summary>
    private sealed class CountingStore : ITargetLedgerStore
    {
        private readonly Dictionary<string, TargetLedgerRecord> _rows = new(StringComparer.Ordinal);
        private int _version;

        public int Reads { get; private set; }

        public Task<TargetLedgerRecord> GetAsync(string key, CancellationToken cancellationToken = default)
        {
            Reads++;
            return Task.FromResult(_rows.TryGetValue(key, out var row) ? Copy(row, row.ETag) : new TargetLedgerRecord { PartitionKey = key });
        }

        public Task<bool> TrySaveAsync(TargetLedgerRecord record, CancellationToken cancellationToken = default)
        {
            var exists = _rows.TryGetValue(record.PartitionKey, out var row);
            if (exists ? row!.ETag != record.ETag : record.ETag != default)
            {
                return Task.FromResult(false);
            }
            _rows[record.PartitionKey] = Copy(record, new ETag($"v{++_version}"));
            return Task.FromResult(true);
        }

        private static TargetLedgerRecord Copy(TargetLedgerRecord r, ETag etag) => new()
        {
            PartitionKey = r.PartitionKey, RowKey = r.RowKey, ETag = etag, ActionTimesJson = r.ActionTimesJson,
            LastActionAt = r.LastActionAt, LastIncidentId = r.LastIncidentId, ConsecutiveFailures = r.ConsecutiveFailures,
        };
    }
}
