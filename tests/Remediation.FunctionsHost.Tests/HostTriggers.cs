using System.Globalization;
using System.Net.Http.Headers;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Remediation.FunctionsHost.Tests.Rpc;

namespace Remediation.FunctionsHost.Tests;

/// <summary>
/// The host's trigger parts the fixture plays: an HTTP request forwarded to the worker's listener and correlated with its
/// InvocationRequest by x-ms-invocation-id (ASP.NET Core integration), a queue message delivered with its trigger metadata
/// (deleted on success, left for re-delivery on failure and moved to "-poison" after maxDequeueCount), and a timer tick.
/// </summary>
internal static class HostTriggers
{
    public static async Task<(HttpResponseMessage Response, InvocationResponse Invocation)> PostAsync(
        WorkerHostFixture host, string function, string path, string body, TimeSpan timeout)
    {
        var invocationId = Guid.NewGuid().ToString();
        var url = new Uri(host.HttpUri!, path);
        var http = new RpcHttp { Method = "POST", Url = url.ToString() };
        var invocation = host.InvokeAsync(function, [new ParameterBinding { Name = "request", Data = new TypedData { Http = http } }],
            new Dictionary<string, TypedData>(), timeout, invocationId);
        using var client = new HttpClient { Timeout = timeout };
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Add("x-ms-invocation-id", invocationId);
            try
            {
                var response = await client.SendAsync(request).ConfigureAwait(false);
                return (response, await invocation.ConfigureAwait(false));
            }
            catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConnectionError && DateTimeOffset.UtcNow < deadline)
            {
                // The worker reports HttpUri in its init response and may start listening a moment later. The host's
                // proxy retries a forward that could not connect (its RetryProxyHandler: 10 tries, 50-250 ms apart);
                // the fixture retries until its deadline (under parallel test load start-up can take longer).
                await Task.Delay(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
            }
        }
    }

    public static QueueClient Queue(string connectionString, string name) =>
        new(connectionString, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    /// <summary>Waits for a visible message on <paramref name="queue"/> and receives it (the host's queue listener).</summary>
    public static async Task<QueueMessage> ReceiveAsync(QueueClient queue, TimeSpan visibility, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var message = (await queue.ReceiveMessageAsync(visibility, cts.Token).ConfigureAwait(false)).Value;
            if (message is not null)
            {
                return message;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200), cts.Token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Delivers one received message to <paramref name="function"/>. Success deletes it. Failure leaves it to become
    /// visible again, unless this was delivery <paramref name="maxDequeueCount"/>: then it is moved to "&lt;queue&gt;-poison".
    /// </summary>
    public static async Task<InvocationResponse> DeliverAsync(WorkerHostFixture host, string function, QueueClient queue, QueueMessage message,
        int maxDequeueCount, TimeSpan timeout)
    {
        var metadata = new Dictionary<string, TypedData>
        {
            ["Id"] = new() { String = message.MessageId },
            ["DequeueCount"] = new() { Json = message.DequeueCount.ToString(CultureInfo.InvariantCulture) },
            ["PopReceipt"] = new() { String = message.PopReceipt },
            ["InsertionTime"] = new() { Json = Json(message.InsertedOn) },
            ["ExpirationTime"] = new() { Json = Json(message.ExpiresOn) },
            ["NextVisibleTime"] = new() { Json = Json(message.NextVisibleOn) },
            ["QueueTrigger"] = new() { String = message.MessageText },
        };
        var response = await host.InvokeAsync(function, [new ParameterBinding { Name = "message", Data = new TypedData { String = message.MessageText } }],
            metadata, timeout).ConfigureAwait(false);
        if (response.Result.Status == StatusResult.Types.Status.Success)
        {
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt).ConfigureAwait(false);
        }
        else if (message.DequeueCount >= maxDequeueCount)
        {
            var poison = Queue(host.StorageConnectionString, queue.Name + "-poison");
            await poison.CreateIfNotExistsAsync().ConfigureAwait(false);
            await poison.SendMessageAsync(message.MessageText).ConfigureAwait(false);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt).ConfigureAwait(false);
        }
        else
        {
            // The host releases a failed message for re-delivery (visibilityTimeout in host.json; immediately here).
            await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero).ConfigureAwait(false);
        }
        return response;
    }

    public static Task<InvocationResponse> TickAsync(WorkerHostFixture host, string function, TimeSpan timeout) =>
        host.InvokeAsync(function,
            [new ParameterBinding { Name = "timer", Data = new TypedData { Json = """{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":false}""" } }],
            new Dictionary<string, TypedData>(), timeout);

    private static string Json(DateTimeOffset? value) => "\"" + (value ?? DateTimeOffset.UtcNow).ToString("O", CultureInfo.InvariantCulture) + "\"";
}
