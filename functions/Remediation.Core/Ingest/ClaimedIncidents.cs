using System.Globalization;
using System.Numerics;

namespace Remediation.Ingest;

/// <summary>
/// The incidents this process claimed lately, by id, for <see cref="Lifetime"/>: a fixed-size memory that never grows. An id
/// (32 hex digits, <see cref="Alerts.IncidentIdentity"/>) is held as its 128-bit value, in arrays allocated and touched
/// once, so the process's memory is the same with no id remembered and with <see cref="Capacity"/> of them (about 32 bytes
/// each, against about 160 for an id string in a dictionary). When full, the oldest id is forgotten first: a storm's
/// repeats arrive soon after the first delivery, and an id forgotten costs only the failed insert it would have saved.
/// Expired ids are not removed; they are answered as unknown and overwritten in their turn.
/// </summary>
public sealed class ClaimedIncidents
{
    private readonly Lock _lock = new();
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _timeProvider;
    private readonly UInt128[] _ids;
    private readonly long[] _learnedTicks;
    private readonly int[] _next;
    private readonly int[] _buckets;
    private int _oldest;
    private int _count;

    public ClaimedIncidents(TimeSpan lifetime, int capacity, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        (_lifetime, _timeProvider) = (lifetime, timeProvider);
        _ids = new UInt128[capacity];
        _learnedTicks = new long[capacity];
        _next = new int[capacity];
        _buckets = new int[(int)Math.Min(int.MaxValue, Math.Max(16, BitOperations.RoundUpToPowerOf2((uint)capacity)))];
        // Touched now, not as ids arrive: the memory is taken once.
        Array.Fill(_ids, UInt128.MaxValue);
        Array.Fill(_learnedTicks, long.MinValue);
        Array.Fill(_next, -1);
        Array.Fill(_buckets, -1);
    }

    public TimeSpan Lifetime => _lifetime;
    public int Capacity => _ids.Length;

    /// <summary>Ids held, expired or not.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Whether <paramref name="incidentId"/> was remembered less than <see cref="Lifetime"/> ago.</summary>
    public bool Contains(string incidentId)
    {
        if (!TryPack(incidentId, out var id))
        {
            return false;
        }
        var now = _timeProvider.GetUtcNow().UtcTicks;
        lock (_lock)
        {
            var slot = Find(id, out _);
            return slot >= 0 && now - _learnedTicks[slot] < _lifetime.Ticks;
        }
    }

    /// <summary>Remembers <paramref name="incidentId"/> as claimed now (forgetting the oldest id when full); not an id: nothing.</summary>
    public void Remember(string incidentId)
    {
        if (!TryPack(incidentId, out var id))
        {
            return;
        }
        var now = _timeProvider.GetUtcNow().UtcTicks;
        lock (_lock)
        {
            var held = Find(id, out _);
            if (held >= 0)
            {
                _learnedTicks[held] = now;
                return;
            }
            int slot;
            if (_count < _ids.Length)
            {
                slot = (_oldest + _count) % _ids.Length;
                _count++;
            }
            else
            {
                slot = _oldest;
                Unlink(slot);
                _oldest = (_oldest + 1) % _ids.Length;
            }
            var bucket = Bucket(id);
            (_ids[slot], _learnedTicks[slot], _next[slot]) = (id, now, _buckets[bucket]);
            _buckets[bucket] = slot;
        }
    }

    /// <summary>An incident id as its 128-bit value: exactly 32 lowercase hex digits, as <see cref="Alerts.IncidentIdentity"/> writes them.</summary>
    public static bool TryPack(string? incidentId, out UInt128 id)
    {
        id = default;
        if (incidentId is not { Length: 32 })
        {
            return false;
        }
        foreach (var c in incidentId)
        {
            if (!char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }
        return UInt128.TryParse(incidentId, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out id);
    }

    private int Bucket(UInt128 id) => (int)((ulong)(id ^ (id >> 64)) & (ulong)(_buckets.Length - 1));

    private int Find(UInt128 id, out int previous)
    {
        previous = -1;
        for (var slot = _buckets[Bucket(id)]; slot >= 0; previous = slot, slot = _next[slot])
        {
            if (_ids[slot] == id)
            {
                return slot;
            }
        }
        return -1;
    }

    private void Unlink(int slot)
    {
        if (Find(_ids[slot], out var previous) != slot)
        {
            throw new InvalidOperationException("The claimed-incident memory lost track of a slot.");
        }
        if (previous < 0)
        {
            _buckets[Bucket(_ids[slot])] = _next[slot];
        }
        else
        {
            _next[previous] = _next[slot];
        }
        (_ids[slot], _learnedTicks[slot], _next[slot]) = (UInt128.MaxValue, long.MinValue, -1);
    }
}
