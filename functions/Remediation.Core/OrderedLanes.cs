namespace Remediation;

/// <summary>
/// Runs the items of a batch in lanes: items with the same key one after another, in their order in the batch; lanes at
/// once, at most a given number at a time, started in the order of their first item. An item that throws ends its own
/// lane (the lane's later items are not run); the other lanes go on, and once every lane has ended one failure is thrown
/// (that of the lane that failed first, as <see cref="Task.WhenAll(Task[])"/> does).
/// </summary>
public static class OrderedLanes
{
    /// <summary>The lanes of <paramref name="count"/> items: each key's item indexes, in order; lanes by first appearance.</summary>
    private static List<List<int>> Of(int count, Func<int, string> keyOf)
    {
        ArgumentNullException.ThrowIfNull(keyOf);
        var byKey = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var lanes = new List<List<int>>();
        for (var i = 0; i < count; i++)
        {
            var key = keyOf(i);
            if (!byKey.TryGetValue(key, out var lane))
            {
                lane = [];
                byKey.Add(key, lane);
                lanes.Add(lane);
            }
            lane.Add(i);
        }
        return lanes;
    }

    /// <summary>Runs <paramref name="run"/> for each of <paramref name="count"/> items, in lanes by <paramref name="keyOf"/>.</summary>
    public static async Task RunAsync(int count, Func<int, string> keyOf, int maxLanesAtOnce, Func<int, Task> run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLanesAtOnce, 1);
        var lanes = Of(count, keyOf);
        if (lanes.Count == 1)
        {
            // One lane (a single item, or every item on one key): no slots, no extra tasks.
            foreach (var i in lanes[0])
            {
                await run(i).ConfigureAwait(false);
            }
            return;
        }
        using var slots = new SemaphoreSlim(maxLanesAtOnce);
        await Task.WhenAll(lanes.Select(lane => RunLaneAsync(lane, slots, run, cancellationToken))).ConfigureAwait(false);
    }

    private static async Task RunLaneAsync(List<int> lane, SemaphoreSlim slots, Func<int, Task> run, CancellationToken cancellationToken)
    {
        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var i in lane)
            {
                await run(i).ConfigureAwait(false);
            }
        }
        finally
        {
            slots.Release();
        }
    }
}
