using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Remediation.Hosting;
using Remediation.Pipeline;
using Remediation.Storage;

namespace Remediation.Host;

/// <summary>
/// The standalone host's queue trigger: polls the work queue and runs the same <see cref="WorkItemProcessor"/>
/// as the Functions app, with bounded concurrency and the same poison rule (5 failed dequeues).
/// </summary>
public sealed partial class QueueWorker(WorkQueue queue, WorkItemProcessor processor, HostRunOptions runOptions, TimeProvider timeProvider, ILogger<QueueWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var idle = runOptions.MinPollInterval;
        using var slots = new SemaphoreSlim(runOptions.QueueConcurrency);
        var running = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            Azure.Storage.Queues.Models.QueueMessage[] messages;
            // Taken before polling: a message this process sends after it wakes the worker even if the poll missed it.
            var enqueued = queue.NextEnqueue;
            try
            {
                messages = await queue.ReceiveAsync(Math.Min(32, runOptions.QueueConcurrency * 2), runOptions.VisibilityTimeout, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Never let the worker die: a dead BackgroundService stops the whole host.
                LogPollFailed(ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), timeProvider, stoppingToken).ConfigureAwait(false);
                continue;
            }
            if (messages.Length == 0)
            {
                idle = await IdleAsync(idle, enqueued, stoppingToken).ConfigureAwait(false);
                continue;
            }
            idle = runOptions.MinPollInterval;
            // Held from now, not from when a place frees: a message waiting for a place keeps its visibility too.
            var leases = messages.Select(m => MessageLease.Hold(queue, m, runOptions.VisibilityTimeout, timeProvider, ex => LogRenewalFailed(m.MessageId, ex))).ToList();
            for (var i = 0; i < leases.Count; i++)
            {
                try
                {
                    await slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Shutting down: the messages not started become visible again after their timeout.
                    foreach (var waiting in leases.Skip(i))
                    {
                        await waiting.DisposeAsync().ConfigureAwait(false);
                    }
                    throw;
                }
                running.Add(HandleAsync(leases[i], slots, stoppingToken));
            }
            running.RemoveAll(t => t.IsCompleted);
        }
        await Task.WhenAll(running).ConfigureAwait(false);
    }

    /// <summary>Waits out the idle back-off, or less when this process queues work; returns the next back-off.</summary>
    private async Task<TimeSpan> IdleAsync(TimeSpan idle, Task enqueued, CancellationToken stoppingToken)
    {
        using var delayCancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var delay = Task.Delay(idle, timeProvider, delayCancellation.Token);
        var first = await Task.WhenAny(enqueued, delay).ConfigureAwait(false);
        await delayCancellation.CancelAsync().ConfigureAwait(false);
        stoppingToken.ThrowIfCancellationRequested();
        return first == enqueued ? runOptions.MinPollInterval : TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, runOptions.MaxPollInterval.Ticks));
    }

    private async Task HandleAsync(MessageLease lease, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        await using var held = lease;
        var message = lease.Message!;
        try
        {
            await processor.ProcessAsync(message.Body.ToString(), message.DequeueCount, cancellationToken).ConfigureAwait(false);
            if (!await lease.CompleteAsync(cancellationToken).ConfigureAwait(false))
            {
                LogLeaseLost(message.MessageId);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: the message becomes visible again after its timeout and is retried.
        }
        catch (Exception ex)
        {
            LogFailed(message.MessageId, message.DequeueCount, ex);
            if (message.DequeueCount >= WorkItemProcessor.MaxDequeueCount && await StopHoldingAsync(lease).ConfigureAwait(false) is { } current)
            {
                await PoisonAsync(current, ex, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>Stops renewing; the message as last renewed, null when the lease was lost.</summary>
    private static async Task<Azure.Storage.Queues.Models.QueueMessage?> StopHoldingAsync(MessageLease lease)
    {
        await lease.DisposeAsync().ConfigureAwait(false);
        return lease.Message;
    }

    private async Task PoisonAsync(Azure.Storage.Queues.Models.QueueMessage message, Exception ex, CancellationToken cancellationToken)
    {
        try
        {
            await queue.MoveToPoisonAsync(message, cancellationToken).ConfigureAwait(false);
            await processor.RecordPoisonAsync(message.Body.ToString(), $"work item failed {message.DequeueCount} times, moved to the poison queue: {ex.Message}", cancellationToken).ConfigureAwait(false);
        }
        catch (TransientDependencyException poisonEx)
        {
            // Storage is down: the message stays on the work queue and is poisoned on its next failure.
            LogPollFailed(poisonEx.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue poll failed: {Error}")]
    private partial void LogPollFailed(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Work message {MessageId} could not be kept invisible any longer; it may be processed again by another receiver")]
    private partial void LogRenewalFailed(string messageId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Work message {MessageId} was taken by another receiver before it was deleted here; it is processed again there (work items are idempotent)")]
    private partial void LogLeaseLost(string messageId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Work item {MessageId} failed (dequeue {DequeueCount})")]
    private partial void LogFailed(string messageId, long dequeueCount, Exception exception);
}

/// <summary>The standalone host's timer trigger: the verification sweep.</summary>
public sealed partial class SweepTimer(Verification.StaleWorkSweeper sweeper, HostRunOptions runOptions, TimeProvider timeProvider, ILogger<SweepTimer> logger) : BackgroundService
{
    /// <summary>The sweep may use at most this share of the time: a slow sweep (a large table) spaces out the next.</summary>
    public const int DutyCycleDivisor = 10;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = timeProvider.GetTimestamp();
            try
            {
                // A span per sweep, so a trace shows when the sweep's table scan overlapped other work.
                using var span = RemediationMetrics.ActivitySource.StartActivity("remediation.sweep");
                var result = await sweeper.SweepAsync(stoppingToken).ConfigureAwait(false);
                if (result.Verified + result.Requeued > 0)
                {
                    LogSweep(result.Verified, result.Succeeded, result.Failed, result.Requeued);
                }
            }
            catch (Exception ex) when (ex is TransientDependencyException || TransientDependencyException.IsTransient(ex))
            {
                // Storage or the cluster is down: one line saying which (the queue worker's poll says it the same way),
                // not the SDK's exception chain and retry advice on every tick. The next tick tries again.
                LogSweepUnavailable(ex is TransientDependencyException transient ? transient.Message : TransientDependencyException.Storage(ex).Message);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The next tick tries again; a dead BackgroundService would stop the whole host.
                LogSweepFailed(ex);
            }
            // A sweep scans the open incidents; during a storm that is expensive for storage, so keep it to a
            // tenth of the time instead of competing with the work it is meant to check.
            var took = timeProvider.GetElapsedTime(started);
            var wait = TimeSpan.FromTicks(Math.Max(runOptions.SweepInterval.Ticks, took.Ticks * (DutyCycleDivisor - 1)));
            await Task.Delay(wait, timeProvider, stoppingToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sweep: {Verified} verifying, {Succeeded} succeeded, {Failed} failed, {Requeued} re-queued")]
    private partial void LogSweep(int verified, int succeeded, int failed, int requeued);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweep skipped: {Error}; retrying on the next tick")]
    private partial void LogSweepUnavailable(string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sweep failed; retrying on the next tick")]
    private partial void LogSweepFailed(Exception exception);
}

/// <summary>Standalone host run settings (section Remediation:Host).</summary>
public sealed class HostRunOptions
{
    public const string SectionName = "Remediation:Host";
    public int QueueConcurrency { get; set; } = 8;
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan MinPollInterval { get; set; } = TimeSpan.FromMilliseconds(50);
    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);
}
