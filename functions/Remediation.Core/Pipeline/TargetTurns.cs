namespace Remediation.Pipeline;

/// <summary>
/// One incident of a target at a time in this instance. An incident takes its target's turn once its aim is known and
/// holds it until it is decided (refused, grouped, asked for approval or acted on). In an alert storm the incidents of one
/// workload arrive together: without turns each passed the safety gate before the first had reserved its action, read
/// the workload from the cluster to diagnose it, and was refused only then (a storm of 10,000 alerts on 100 workloads
/// diagnosed each workload about eight times). With turns the first decides and reserves, and the others, when their
/// turn comes, are refused from what this instance remembers, reading nothing. Incidents of different targets never wait
/// on each other. Turns only save work: across instances the reservation (a conditional write of the ledger row) is
/// what lets one action through, as before.
/// </summary>
public sealed class TargetTurns
{
    private sealed class Turn
    {
        public readonly SemaphoreSlim Gate = new(1, 1);

        /// <summary>The incident holding the turn and those waiting for it.</summary>
        public int Queued;
    }

    private readonly Dictionary<string, Turn> _turns = new(StringComparer.Ordinal);

    /// <summary>Waits for the turn of <paramref name="key"/>; disposing the result gives it to the next incident.</summary>
    public async Task<IDisposable> TakeAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        Turn turn;
        lock (_turns)
        {
            if (!_turns.TryGetValue(key, out turn!))
            {
                turn = new Turn();
                _turns.Add(key, turn);
            }
            turn.Queued++;
        }
        var taken = false;
        try
        {
            await turn.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            taken = true;
            return new Held(this, key, turn);
        }
        finally
        {
            if (!taken)
            {
                Leave(key, turn);
            }
        }
    }

    /// <summary>Incidents holding or waiting for the turn of <paramref name="key"/> (0 when none: the key is forgotten).</summary>
    public int Queued(string key)
    {
        lock (_turns)
        {
            return _turns.TryGetValue(key, out var turn) ? turn.Queued : 0;
        }
    }

    /// <summary>Keys with an incident holding or waiting for their turn (none remembered after that).</summary>
    public int Count
    {
        get
        {
            lock (_turns)
            {
                return _turns.Count;
            }
        }
    }

    private void Leave(string key, Turn turn)
    {
        lock (_turns)
        {
            if (--turn.Queued == 0)
            {
                _turns.Remove(key);
                turn.Gate.Dispose();
            }
        }
    }

    private sealed class Held(TargetTurns owner, string key, Turn turn) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                turn.Gate.Release();
                owner.Leave(key, turn);
            }
        }
    }
}
