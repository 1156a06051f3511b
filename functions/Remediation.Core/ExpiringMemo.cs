using System.Collections.Concurrent;

namespace Remediation;

/// <summary>
/// What this process learned from storage and may answer from memory for <see cref="Lifetime"/>: a key's value and when it
/// was learned. Bounded: once <see cref="Capacity"/> keys are held, expired ones are dropped (at most once per quarter of
/// the lifetime, so a full memo costs no scan per call) and, while it is still full, nothing new is remembered. A memo
/// only ever saves a read whose answer could not have changed in a way that matters; its users say why that holds.
/// </summary>
public sealed class ExpiringMemo<TValue>(TimeSpan lifetime, int capacity, TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<string, (TValue Value, DateTimeOffset At)> _entries = new(StringComparer.Ordinal);
    private long _nextPruneTicks;

    public TimeSpan Lifetime => lifetime;
    public int Capacity => capacity;
    public int Count => _entries.Count;

    /// <summary>The value remembered for <paramref name="key"/> and when it was learned, unless it has expired.</summary>
    public bool TryGet(string key, out TValue value, out DateTimeOffset learnedAt)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_entries.TryGetValue(key, out var entry) && timeProvider.GetUtcNow() - entry.At < lifetime)
        {
            (value, learnedAt) = entry;
            return true;
        }
        (value, learnedAt) = (default!, default);
        return false;
    }

    /// <summary>Remembers <paramref name="value"/> for <paramref name="key"/> as learned now (unless the memo is full).</summary>
    public void Remember(string key, TValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        var now = timeProvider.GetUtcNow();
        if (_entries.Count >= capacity && !_entries.ContainsKey(key))
        {
            var next = Interlocked.Read(ref _nextPruneTicks);
            if (now.UtcTicks >= next && Interlocked.CompareExchange(ref _nextPruneTicks, now.UtcTicks + (lifetime / 4).Ticks, next) == next)
            {
                foreach (var (k, v) in _entries)
                {
                    if (now - v.At >= lifetime)
                    {
                        _entries.TryRemove(k, out _);
                    }
                }
            }
            if (_entries.Count >= capacity)
            {
                return;
            }
        }
        _entries[key] = (value, now);
    }

    public void Forget(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _entries.TryRemove(key, out _);
    }
}
