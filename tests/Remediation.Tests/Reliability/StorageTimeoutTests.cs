using Azure.Core.Pipeline;
using Azure.Storage.Queues;

namespace Remediation.Tests.Reliability;

/// <summary>
/// A storage client whose every attempt times out (the server never answers, or no connection is free before the
/// network timeout) gives up with the SDK's aggregate of its attempts: that is transient (503 + Retry-After to a
/// sender), whatever shape each attempt's cancellation has. The caller's own cancellation is not.
/// </summary>
public sealed class StorageTimeoutTests
{
    [Fact]
    public async Task Every_attempt_timing_out_is_transient()
    {
        using var handler = new NeverAnswers();
        var queue = Queue(handler);

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => queue.SendMessageAsync("x"));

        var aggregate = Assert.IsType<AggregateException>(failure);
        Assert.Equal(3, aggregate.InnerExceptions.Count);
        Assert.All(aggregate.InnerExceptions, e => Assert.IsAssignableFrom<OperationCanceledException>(e));
        Assert.True(TransientDependencyException.IsTransient(failure));
        Assert.Equal(3, handler.Attempts);
    }

    [Fact]
    public async Task The_callers_cancellation_is_not_transient()
    {
        using var handler = new NeverAnswers();
        var queue = Queue(handler, networkTimeout: TimeSpan.FromMinutes(5));
        using var cancel = new CancellationTokenSource();
        var send = queue.SendMessageAsync("x", cancel.Token);
        await handler.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        await cancel.CancelAsync();
        var failure = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);

        Assert.False(TransientDependencyException.IsTransient(failure));
    }

    private static QueueClient Queue(HttpMessageHandler handler, TimeSpan? networkTimeout = null)
    {
        var options = new QueueClientOptions { Transport = new HttpClientTransport(handler) };
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.Retry.NetworkTimeout = networkTimeout ?? TimeSpan.FromMilliseconds(100);
        return new QueueClient(new Uri("http://127.0.0.1:1/devstoreaccount1/work?sv=2024&sig=secret"), options);
    }

    /// <summary>Accepts each request and never answers, until the request is cancelled (as a server that hangs).</summary>
    private sealed class NeverAnswers : HttpMessageHandler
    {
        private int _attempts;

        public int Attempts => Volatile.Read(ref _attempts);

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _attempts);
            Started.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }
}
