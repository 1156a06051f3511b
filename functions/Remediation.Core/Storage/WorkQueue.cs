using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace Remediation.Storage;

/// <summary>
/// One incident to process; carries the W3C trace context of the ingest request. <paramref name="Verify"/> marks a
/// scheduled verification check of a remediation (see Verification.VerificationScheduler) rather than new work.
/// <paramref name="Claim"/> is the summary row as the ingestor inserted it (see <see cref="ClaimCopy"/>).
/// </summary>
public sealed record WorkItem(string IncidentId, string? TraceParent = null, bool? Verify = null, ClaimCopy? Claim = null);

/// <summary>
/// What the ingestor inserted as an incident's summary row (the row's ETag, its receive time and the alert's JSON; every
/// other field follows from the alert), carried in the new incident's work item so the worker starts from it instead of
/// reading the row back. It is a read made at the claim: every write the worker makes is conditional on this ETag, so a
/// row changed since (a resolution recorded, another worker's decision) fails the write and is read then. Trusted on
/// the message's first delivery only (a retried message's items may have moved on; those are read).
/// </summary>
public sealed record ClaimCopy(string ETag, DateTimeOffset ReceivedAt, string AlertJson);

/// <summary>
/// One queue message: the work items of the incidents one delivery claimed, at most <see cref="MaxItems"/>. A storm
/// delivery of 50 alerts is then 2 messages instead of 50: queue sends, receives and deletes are the storage work that
/// grows with the alert rate, and a deep queue is what makes them slow. Parses the single-item form
/// (<c>{"incidentId": …}</c>) as well, so messages queued by an earlier version are still processed after an upgrade.
/// </summary>
public sealed record WorkMessage(IReadOnlyList<WorkItem> Items)
{
    /// <summary>Items per message: small enough that one message is processed in about a second, far below the 64 KiB limit.</summary>
    public const int MaxItems = 25;

    /// <summary>
    /// Largest message JSON (UTF-8 bytes) that carries claim copies: Storage Queue messages hold 64 KiB, and base64 (as the
    /// Functions queue trigger expects) makes 48 KiB of JSON 64 KiB. The items themselves stay far below it without copies.
    /// </summary>
    public const int MaxCarryingBytes = 45_000;

    public string ToJson() => JsonSerializer.Serialize(new WorkMessageWire { Items = [.. Items] }, StorageJsonContext.Default.WorkMessageWire);

    public static WorkMessage Parse(string json)
    {
        var wire = JsonSerializer.Deserialize(json, StorageJsonContext.Default.WorkMessageWire)
            ?? throw new FormatException("work item message is null");
        List<WorkItem> items = wire.Items is { } list ? list
            : wire.IncidentId is { } id ? [new WorkItem(id, wire.TraceParent)]
            : throw new FormatException("work item message has neither items nor incidentId");
        if (items.Count == 0 || items.Any(i => i is null || string.IsNullOrEmpty(i.IncidentId)))
        {
            throw new FormatException("work item message has an item without incidentId");
        }
        return new WorkMessage(items);
    }

    /// <summary>
    /// A message of <paramref name="items"/> (at most <see cref="MaxItems"/>) in which each item keeps its claim copy,
    /// in order, while the whole message stays within <see cref="MaxCarryingBytes"/>; a copy that would pass it is left
    /// out (the worker reads that row). A delivery of large alerts then costs reads, never an oversized message.
    /// </summary>
    public static WorkMessage Carrying(IReadOnlyList<WorkItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        static int Size(WorkItem item) => JsonSerializer.SerializeToUtf8Bytes(item, StorageJsonContext.Default.WorkItem).Length + 1;
        var bare = items.Select(i => i with { Claim = null }).ToArray();
        var bytes = 16 + bare.Sum(Size); // {"items":[ ... ]}, a comma per item
        var kept = new WorkItem[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var extra = items[i].Claim is null ? 0 : Size(items[i]) - Size(bare[i]);
            kept[i] = extra > 0 && bytes + extra > MaxCarryingBytes ? bare[i] : items[i];
            bytes += kept[i] == items[i] ? extra : 0;
        }
        return new WorkMessage(kept);
    }

    /// <summary>Splits items into messages of at most <see cref="MaxItems"/>, in order.</summary>
    public static IEnumerable<WorkMessage> Chunk(IEnumerable<WorkItem> items) =>
        items.Chunk(MaxItems).Select(chunk => new WorkMessage(chunk));
}

/// <summary>The wire form of <see cref="WorkMessage"/>; <c>incidentId</c>/<c>traceParent</c> are the single-item form.</summary>
public sealed class WorkMessageWire
{
    public List<WorkItem>? Items { get; set; }
    public string? IncidentId { get; set; }
    public string? TraceParent { get; set; }
}

/// <summary>The Storage Queue of work items (base64 encoded, as the Functions queue trigger expects).</summary>
public sealed class WorkQueue(QueueClient queue, QueueClient poison)
{
    private readonly CreatedOnce _created = new();
    private TaskCompletionSource _enqueued = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public QueueClient Queue => queue;

    /// <summary>
    /// Completes when this process next sends a message that is visible at once. A poller in the same process (the
    /// standalone host's queue worker) takes it before polling and waits on it when the queue is empty, so a new incident
    /// is picked up without waiting out the idle back-off, as the Functions host notifies its queue listener of messages the
    /// app itself added. Messages from other processes are found by polling, as before.
    /// </summary>
    public Task NextEnqueue => Volatile.Read(ref _enqueued).Task;
    public QueueClient Poison => poison;

    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => _created.EnsureAsync(CreateAsync, cancellationToken);

    private Task CreateAsync(CancellationToken cancellationToken) => StorageCall.Guard(async () =>
    {
        await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return true;
    });

    public Task EnqueueAsync(WorkMessage message, CancellationToken cancellationToken = default) =>
        EnqueueAsync(message, delay: null, cancellationToken);

    /// <summary>Sends one message; with <paramref name="delay"/> it stays invisible (not received) until then.</summary>
    public async Task EnqueueAsync(WorkMessage message, TimeSpan? delay, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Items.Count is 0 or > WorkMessage.MaxItems)
        {
            throw new ArgumentException($"a work message holds 1 to {WorkMessage.MaxItems} items, not {message.Items.Count}", nameof(message));
        }
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await StorageCall.Guard(() => queue.SendMessageAsync(message.ToJson(), delay, timeToLive: null, cancellationToken)).ConfigureAwait(false);
        if (delay is null || delay <= TimeSpan.Zero)
        {
            Interlocked.Exchange(ref _enqueued, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    /// <summary>The queue's approximate number of messages (visible or not).</summary>
    public async Task<int> ApproximateCountAsync(CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var properties = await StorageCall.Guard(() => queue.GetPropertiesAsync(cancellationToken)).ConfigureAwait(false);
        return properties.Value.ApproximateMessagesCount;
    }

    public async Task<QueueMessage[]> ReceiveAsync(int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var response = await StorageCall.Guard(() => queue.ReceiveMessagesAsync(maxMessages, visibilityTimeout, cancellationToken)).ConfigureAwait(false);
        return response.Value;
    }

    /// <summary>
    /// Deletes a processed message. False when the message is no longer this receiver's (its visibility ran out and another
    /// receive took it, or it was already deleted): the other holder processes it again, which work items allow.
    /// </summary>
    public async Task<bool> CompleteAsync(QueueMessage message, CancellationToken cancellationToken = default)
    {
        try
        {
            await StorageCall.Guard(() => queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken)).ConfigureAwait(false);
            return true;
        }
        catch (Azure.RequestFailedException ex) when (NoLongerHeld(ex))
        {
            return false;
        }
    }

    /// <summary>The message is gone (404) or another receive holds it now (400 PopReceiptMismatch).</summary>
    private static bool NoLongerHeld(Azure.RequestFailedException ex) =>
        ex.Status == 404 || (ex.Status == 400 && ex.ErrorCode == QueueErrorCode.PopReceiptMismatch.ToString());

    /// <summary>
    /// Keeps a message this receiver holds invisible for <paramref name="visibilityTimeout"/> more (the Functions queue
    /// trigger does the same for a long-running function); the returned message carries the new pop receipt. Null when the
    /// message is no longer this receiver's.
    /// </summary>
    public async Task<QueueMessage?> RenewAsync(QueueMessage message, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            var receipt = await StorageCall.Guard(() => queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: visibilityTimeout, cancellationToken: cancellationToken))
                .ConfigureAwait(false);
            return message.Update(receipt.Value);
        }
        catch (Azure.RequestFailedException ex) when (NoLongerHeld(ex))
        {
            return null;
        }
    }

    public async Task MoveToPoisonAsync(QueueMessage message, CancellationToken cancellationToken = default)
    {
        await StorageCall.Guard(() => poison.SendMessageAsync(message.Body, cancellationToken: cancellationToken)).ConfigureAwait(false);
        _ = await CompleteAsync(message, cancellationToken).ConfigureAwait(false);
    }
}
