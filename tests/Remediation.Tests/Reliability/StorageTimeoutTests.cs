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

    /// <summary>What a sender's 503, a CLI line or an incident's reason says of a storage fault: the project's words, not the SDK's.</summary>
    [Fact]
    public async Task A_storage_fault_is_described_in_a_few_words_without_the_SDKs_text()
    {
        using var hangs = new NeverAnswers();
        var timedOut = await Assert.ThrowsAnyAsync<Exception>(() => Queue(hangs).SendMessageAsync("x"));
        using var busy = new AnswersBusy();
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => Queue(busy).SendMessageAsync("x"));

        var described = new[] { timedOut, refused }.Select(TransientDependencyException.Storage).ToList();

        Assert.Equal(["storage unavailable: timed out, 3 attempts", "storage unavailable: answered 503 ServerBusy"], described.Select(d => d.Message));
        Assert.Equal([timedOut, refused], described.Select(d => d.InnerException));
        Assert.All(described, d => Assert.Equal("storage", d.Dependency));
    }

    private static QueueClient Queue(HttpMessageHandler handler, TimeSpan? networkTimeout = null)
    {
        var options = new QueueClientOptions { Transport = new HttpClientTransport(handler) };
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.Retry.NetworkTimeout = networkTimeout ?? TimeSpan.FromMilliseconds(100);
        return new QueueClient(new Uri("http://127.0.0.1:1/devstoreaccount1/work?sv=2024&sig=secret"), options);
    }

    /// <summary>Answers every request 503 ServerBusy, as a throttled storage account does.</summary>
    private sealed class AnswersBusy : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = new HttpResponseMessage(System.Net.HttpStatusCode.ServiceUnavailable) { RequestMessage = request, Content = new StringContent(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ServerBusy</Code><Message>busy</Message></Error>", System.Text.Encoding.UTF8, "application/xml") };
            response.Headers.Add("x-ms-error-code", "ServerBusy");
            return Task.FromResult(response);
        }
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
