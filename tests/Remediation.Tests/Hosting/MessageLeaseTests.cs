using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Time.Testing;
using Remediation.Host;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Hosting;

/// <summary>
/// The standalone host's hold on a received work message (on Azurite): renewed, it stays invisible past the visibility
/// it was received with and is deleted with the renewed receipt; taken by another receiver once its visibility ran out,
/// the lease says it is lost (renewing finds it taken, completing deletes nothing) and the other holder can delete it.
/// The renewal period runs on a fake clock; the visibility on the service's own.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class MessageLeaseTests(AzuriteFixture storage)
{
    /// <summary>A fresh queue holding one message, and that message received with <paramref name="visibility"/>.</summary>
    private async Task<(WorkQueue Queue, QueueMessage Received)> ReceivedAsync(TimeSpan visibility)
    {
        var name = "lease-" + Guid.NewGuid().ToString("N")[..12];
        var queue = new WorkQueue(new QueueClient(storage.ConnectionString, name), new QueueClient(storage.ConnectionString, name + "-poison"));
        await queue.EnsureCreatedAsync();
        await queue.Queue.SendMessageAsync("work");
        return (queue, Assert.Single(await queue.ReceiveAsync(1, visibility)));
    }

    private static Task UntilAsync(Func<bool> condition, string what) => UntilAsync(() => Task.FromResult(condition()), what);

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "timed out waiting until " + what);
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_renewed_message_stays_invisible_past_its_first_timeout_and_is_deleted_with_the_new_receipt()
    {
        var (queue, received) = await ReceivedAsync(TimeSpan.FromSeconds(2));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var lease = MessageLease.Hold(queue, received, TimeSpan.FromSeconds(30), time);

        time.Advance(TimeSpan.FromSeconds(15));
        await UntilAsync(() => lease.Renewals == 1, "the lease renewed the message");
        Assert.NotEqual(received.PopReceipt, lease.Message!.PopReceipt);
        await UntilAsync(() => DateTimeOffset.UtcNow > received.NextVisibleOn!.Value.AddSeconds(1), "the first visibility timeout has passed");
        Assert.Empty(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(30)));

        Assert.True(await lease.CompleteAsync(CancellationToken.None));
        Assert.Equal(0, await queue.ApproximateCountAsync());
    }

    [Fact]
    public async Task A_message_taken_by_another_receiver_is_reported_lost_and_left_to_it()
    {
        var (queue, received) = await ReceivedAsync(TimeSpan.FromSeconds(1));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var lease = MessageLease.Hold(queue, received, TimeSpan.FromSeconds(30), time);

        // Its visibility runs out before the lease's first renewal: another receive takes it.
        QueueMessage[] taken = [];
        await UntilAsync(async () => (taken = await queue.ReceiveAsync(1, TimeSpan.FromSeconds(30))).Length > 0, "the message is visible again");
        var other = Assert.Single(taken);
        Assert.Equal(received.MessageId, other.MessageId);
        time.Advance(TimeSpan.FromSeconds(15));
        await UntilAsync(() => lease.Message is null, "the renewal found the message taken");

        Assert.False(await lease.CompleteAsync(CancellationToken.None));
        Assert.Equal(1, await queue.ApproximateCountAsync());
        Assert.True(await queue.CompleteAsync(other));
        Assert.Equal(0, await queue.ApproximateCountAsync());
    }

    [Fact]
    public async Task A_renewal_the_service_refuses_is_reported_and_the_message_is_still_deleted()
    {
        var (queue, received) = await ReceivedAsync(TimeSpan.FromSeconds(30));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var failures = new List<Exception>();
        // Longer than the service allows (7 days): the renewal is refused as out of range, not as the message being taken.
        await using var lease = MessageLease.Hold(queue, received, TimeSpan.FromDays(8), time, ex => { lock (failures) { failures.Add(ex); } });

        time.Advance(TimeSpan.FromDays(4));
        await UntilAsync(() => { lock (failures) { return failures.Count == 1; } }, "the refused renewal was reported");
        Assert.Equal(0, lease.Renewals);
        Assert.Equal(received.PopReceipt, lease.Message!.PopReceipt);
        Assert.True(await lease.CompleteAsync(CancellationToken.None));
        Assert.Equal(0, await queue.ApproximateCountAsync());
    }
}
