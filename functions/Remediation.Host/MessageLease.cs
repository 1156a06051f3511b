using Azure.Storage.Queues.Models;
using Remediation.Storage;

namespace Remediation.Host;

/// <summary>
/// A received work message held by this process, kept invisible to other receivers while it waits for a place and while
/// it is processed: its visibility is renewed every half of <c>visibility</c>, as the Functions queue trigger renews a
/// long-running function's message. Without it, a message held longer than its visibility timeout (a deep queue on slow
/// storage) is received and processed again by the next poll, and this process's delete then fails. The lease is lost
/// only when a renewal finds the message taken; then <see cref="CompleteAsync"/> says so and deletes nothing.
/// </summary>
public sealed class MessageLease : IAsyncDisposable
{
    private readonly WorkQueue _queue;
    private readonly TimeSpan _visibility;
    private readonly TimeProvider _timeProvider;
    private readonly Action<Exception>? _renewalFailed;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewing;
    private QueueMessage? _message;

    private MessageLease(WorkQueue queue, QueueMessage message, TimeSpan visibility, TimeProvider timeProvider, Action<Exception>? renewalFailed)
    {
        (_queue, _message, _visibility, _timeProvider, _renewalFailed) = (queue, message, visibility, timeProvider, renewalFailed);
        _renewing = RenewAsync(_stop.Token);
    }

    /// <summary>
    /// Starts holding <paramref name="message"/> (received with <paramref name="visibility"/>). A renewal the service refuses
    /// for another reason than the message being taken ends the renewing and is reported to <paramref name="renewalFailed"/>;
    /// the message is still deleted when processed, if it is still this receiver's then.
    /// </summary>
    public static MessageLease Hold(WorkQueue queue, QueueMessage message, TimeSpan visibility, TimeProvider timeProvider, Action<Exception>? renewalFailed = null) =>
        new(queue, message, visibility, timeProvider, renewalFailed);

    /// <summary>Renewals made so far.</summary>
    public int Renewals { get; private set; }

    /// <summary>The message as last renewed (its current pop receipt); null once the lease was found lost.</summary>
    public QueueMessage? Message => Volatile.Read(ref _message);

    /// <summary>Stops renewing and deletes the message; false when the lease was lost (another receiver holds the message).</summary>
    public async Task<bool> CompleteAsync(CancellationToken cancellationToken)
    {
        await StopAsync().ConfigureAwait(false);
        return Message is { } held && await _queue.CompleteAsync(held, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops renewing; the message becomes visible again when its current visibility runs out.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }
        try
        {
            await _renewing.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopped while waiting for the next renewal: that is how renewing ends.
        }
    }

    private async Task RenewAsync(CancellationToken stop)
    {
        var every = _visibility / 2;
        while (Message is { } held)
        {
            await Task.Delay(every, _timeProvider, stop).ConfigureAwait(false);
            try
            {
                // Not cancelled once sent: a renewal the service made but this process never heard of would leave it
                // holding a stale pop receipt.
                Volatile.Write(ref _message, await _queue.RenewAsync(held, _visibility, CancellationToken.None).ConfigureAwait(false));
                Renewals++;
            }
            catch (TransientDependencyException)
            {
                // Storage unreachable for now: try again at the next tick; the message may still be ours.
            }
            catch (Azure.RequestFailedException ex)
            {
                _renewalFailed?.Invoke(ex);
                return;
            }
        }
    }
}
