using Remediation.Storage;

namespace Remediation.Ingest;

/// <summary>
/// Group commit of new incidents' work items. A delivery whose items arrive while a send is under way waits for it, and
/// the items of every delivery that waited meanwhile go out together, in messages of up to
/// <see cref="WorkMessage.MaxItems"/> (sent at once). A lone delivery is sent at once, as before; under a burst of
/// single-alert deliveries one message carries many (measured here: the queue's send was most of an acknowledgement's cost, and sending
/// each alert's message alone held the host to about 650 alerts/s).
/// <para>
/// A delivery learns which of its items were queued; a send is not cancelled by one waiting delivery (others' items
/// ride in it), so a delivery always knows whether each of its claims has a work item.
/// </para>
/// </summary>
internal sealed class GroupedEnqueue(WorkQueue queue)
{
    private sealed class Waiter(IReadOnlyList<WorkItem> items)
    {
        public IReadOnlyList<WorkItem> Items => items;

        public bool[] Sent { get; } = new bool[items.Count];

        public Exception? Failure;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly Lock _lock = new();
    private List<Waiter> _waiting = [];
    private bool _sending;

    /// <summary>Queues <paramref name="items"/>; returns which were queued and, when some were not, the first failure.</summary>
    public async Task<(bool[] Sent, Exception? Failure)> EnqueueAsync(IReadOnlyList<WorkItem> items)
    {
        var waiter = new Waiter(items);
        List<Waiter>? batch = null;
        lock (_lock)
        {
            _waiting.Add(waiter);
            if (!_sending)
            {
                (_sending, batch, _waiting) = (true, _waiting, []);
            }
        }
        if (batch is not null)
        {
            await SendAsync(batch).ConfigureAwait(false);
        }
        await waiter.Done.Task.ConfigureAwait(false);
        return (waiter.Sent, waiter.Failure);
    }

    /// <summary>
    /// Sends <paramref name="batch"/>, answers its deliveries, then starts the next batch if deliveries waited meanwhile (not
    /// awaited: this caller's answer does not wait for theirs). Never throws; every failure goes to the deliveries it concerns.
    /// </summary>
    private async Task SendAsync(List<Waiter> batch)
    {
        var entries = batch.SelectMany(w => Enumerable.Range(0, w.Items.Count).Select(i => (Waiter: w, Index: i))).ToList();
        await Task.WhenAll(entries.Chunk(WorkMessage.MaxItems).Select(SendMessageAsync)).ConfigureAwait(false);
        foreach (var waiter in batch)
        {
            waiter.Done.TrySetResult();
        }
        List<Waiter>? next = null;
        lock (_lock)
        {
            if (_waiting.Count == 0)
            {
                _sending = false;
            }
            else
            {
                (next, _waiting) = (_waiting, []);
            }
        }
        if (next is not null)
        {
            _ = Task.Run(() => SendAsync(next));
        }
    }

    private async Task SendMessageAsync((Waiter Waiter, int Index)[] chunk)
    {
        Exception? failure = null;
        try
        {
            // Not cancelled by any one delivery: the message carries others' items too. The storage client's timeouts bound it.
            await queue.EnqueueAsync(WorkMessage.Carrying([.. chunk.Select(e => e.Waiter.Items[e.Index])]), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        foreach (var (waiter, index) in chunk)
        {
            if (failure is null)
            {
                waiter.Sent[index] = true;
            }
            else
            {
                Interlocked.CompareExchange(ref waiter.Failure, failure, null);
            }
        }
    }
}
