using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace Remediation.Storage;

/// <summary>One incident to process; carries the W3C trace context of the ingest request.</summary>
public sealed record WorkItem(string IncidentId, string? TraceParent = null)
{
    public string ToJson() => JsonSerializer.Serialize(this, RemediationJsonContext.Default.WorkItem);

    public static WorkItem Parse(string json)
    {
        var item = JsonSerializer.Deserialize(json, RemediationJsonContext.Default.WorkItem);
        return item is { IncidentId.Length: > 0 } ? item : throw new FormatException("work item has no incidentId");
    }
}

/// <summary>The Storage Queue of work items (base64 encoded, as the Functions queue trigger expects).</summary>
public sealed class WorkQueue(QueueClient queue, QueueClient poison)
{
    private int _created;

    public QueueClient Queue => queue;
    public QueueClient Poison => poison;

    public async Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _created) == 1)
        {
            return;
        }
        await StorageCall.Guard(async () =>
        {
            await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);
        Volatile.Write(ref _created, 1);
    }

    public async Task EnqueueAsync(WorkItem item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await StorageCall.Guard(() => queue.SendMessageAsync(item.ToJson(), cancellationToken)).ConfigureAwait(false);
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

    public Task CompleteAsync(QueueMessage message, CancellationToken cancellationToken = default) =>
        StorageCall.Guard(() => queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken));

    public async Task MoveToPoisonAsync(QueueMessage message, CancellationToken cancellationToken = default)
    {
        await StorageCall.Guard(() => poison.SendMessageAsync(message.Body, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await CompleteAsync(message, cancellationToken).ConfigureAwait(false);
    }
}
