using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Queues;
using Remediation.Ingest;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Ingest;

/// <summary>
/// Deliveries that arrive while a send is under way share the next messages (group commit): each of their work items is
/// queued exactly once, in messages of at most <see cref="WorkMessage.MaxItems"/>, and each delivery learns which of its
/// items were queued, so a failed send releases exactly the claims it concerns.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class GroupedEnqueueTests(AzuriteFixture storage)
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(42)]
    public async Task Deliveries_waiting_for_a_send_share_the_next_messages_and_each_item_is_queued_once(int seed)
    {
        var (queue, sends) = await NewQueueAsync();
        var grouped = new GroupedEnqueue(queue);
        var random = new Random(seed);
        sends.HoldNext();
        var first = grouped.EnqueueAsync(Items("first", 1));
        await sends.Held;
        // While the first send is held, deliveries of 1 to 9 items each arrive (more than one message's worth in all).
        var waiting = Enumerable.Range(0, 12).Select(d => Items($"d{d}", random.Next(1, 10))).ToList();
        var answers = waiting.Select(grouped.EnqueueAsync).ToList();
        sends.Release();

        Assert.True((await first).Sent.Single());
        var results = await Task.WhenAll(answers);
        Assert.All(results, r => Assert.Null(r.Failure));
        Assert.All(results, r => Assert.All(r.Sent, Assert.True));
        var messages = await ReceiveAllAsync(queue.Queue);
        var total = waiting.Sum(d => d.Count);
        // The first message, then the waiting deliveries' items together, 25 per message.
        Assert.Equal(1 + (total + WorkMessage.MaxItems - 1) / WorkMessage.MaxItems, messages.Count);
        Assert.All(messages, m => Assert.InRange(m.Items.Count, 1, WorkMessage.MaxItems));
        var queued = messages.SelectMany(m => m.Items).Select(i => i.IncidentId).ToList();
        Assert.Equal(queued.Count, queued.Distinct().Count());
        // The waiting deliveries' messages are sent at once, so they may land in any order.
        Assert.Equal("first-0", queued[0]);
        Assert.Equal(waiting.SelectMany(d => d).Select(i => i.IncidentId).Order(StringComparer.Ordinal), queued.Skip(1).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_failed_send_fails_only_the_items_it_carried()
    {
        var (queue, sends) = await NewQueueAsync();
        var grouped = new GroupedEnqueue(queue);
        sends.HoldNext();
        var first = grouped.EnqueueAsync(Items("first", 1));
        await sends.Held;
        sends.FailNext();
        var second = grouped.EnqueueAsync(Items("second", 3));
        var third = grouped.EnqueueAsync(Items("third", 2));
        sends.Release();

        var (firstSent, firstFailure) = await first;
        Assert.Null(firstFailure);
        Assert.True(firstSent.Single());
        foreach (var (sent, failure) in new[] { await second, await third })
        {
            Assert.IsType<TransientDependencyException>(failure);
            Assert.All(sent, Assert.False);
        }
        var queued = (await ReceiveAllAsync(queue.Queue)).SelectMany(m => m.Items).Select(i => i.IncidentId);
        Assert.Equal(new[] { "first-0" }, queued);

        // The next delivery is sent again as usual.
        Assert.True((await grouped.EnqueueAsync(Items("fourth", 1))).Sent.Single());
    }

    private static List<WorkItem> Items(string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(i => new WorkItem($"{prefix}-{i}"))];

    private static async Task<List<WorkMessage>> ReceiveAllAsync(QueueClient queue)
    {
        var messages = new List<WorkMessage>();
        while (true)
        {
            var received = (await queue.ReceiveMessagesAsync(32)).Value;
            if (received.Length == 0)
            {
                return messages;
            }
            messages.AddRange(received.Select(m => WorkMessage.Parse(m.Body.ToString())));
        }
    }

    private async Task<(WorkQueue Queue, ControlledSends Sends)> NewQueueAsync()
    {
        var sends = new ControlledSends();
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        options.Retry.MaxRetries = 0;
        options.AddPolicy(sends, HttpPipelinePosition.PerRetry);
        var name = "grouped-" + Guid.NewGuid().ToString("N")[..12];
        var queue = new WorkQueue(new QueueClient(storage.ConnectionString, name, options), new QueueClient(storage.ConnectionString, name + "-poison", options));
        await queue.EnsureCreatedAsync();
        return (queue, sends);
    }

    /// <summary>Holds the next message send until released, or fails it as an unreachable storage would.</summary>
    private sealed class ControlledSends : HttpPipelinePolicy
    {
        private TaskCompletionSource? _held;
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private bool _fail;

        /// <summary>Completes once the held send has reached storage's door.</summary>
        public Task Held => _held!.Task;

        public void HoldNext() => _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void FailNext() => _fail = true;

        public void Release() => _release.TrySetResult();

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("the queue is called asynchronously");

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (message.Request.Method == RequestMethod.Post)
            {
                if (_held is { Task.IsCompleted: false } held)
                {
                    held.TrySetResult();
                    await _release.Task.ConfigureAwait(false);
                }
                else if (_fail)
                {
                    _fail = false;
                    throw new IOException("the storage endpoint could not be reached");
                }
            }
            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        }
    }
}
