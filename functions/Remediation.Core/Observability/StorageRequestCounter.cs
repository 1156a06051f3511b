using Azure.Core;
using Azure.Core.Pipeline;

namespace Remediation;

/// <summary>
/// Counts every request the table and queue clients send (each retry too: storage bills and throttles per request) into
/// <see cref="RemediationMetrics"/>, by service and operation. The operation comes from the method and the shape of the
/// path only; the query string (a SAS would be there) is never read into a label or a log.
/// </summary>
public sealed class StorageRequestCounter(RemediationMetrics metrics, string service) : HttpPipelineSynchronousPolicy
{
    public const string Table = "table";
    public const string Queue = "queue";

    public override void OnSendingRequest(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var request = message.Request;
        var operation = service == Queue
            ? QueueOperation(request.Method.Method, request.Uri.Path, request.Uri.Query)
            : TableOperation(request.Method.Method, request.Uri.Path, conditional: request.Headers.TryGetValue("If-Match", out var ifMatch) && ifMatch != "*");
        metrics.RecordStorageRequest(service, operation);
    }

    /// <summary>
    /// Table operation of one request: POST /$batch → batch; POST /Tables → create-table; POST /{table} → insert;
    /// PUT /{table}(keys) → replace when <paramref name="conditional"/> (If-Match an ETag: an update of the row as read),
    /// else upsert; MERGE or PATCH /{table}(keys) → merge; GET /{table}(keys) with both keys → read, other GETs → query;
    /// DELETE → delete.
    /// </summary>
    public static string TableOperation(string method, string path, bool conditional = false)
    {
        ArgumentNullException.ThrowIfNull(method);
        var last = LastSegment(path);
        if (last.Equals("$batch", StringComparison.Ordinal))
        {
            return "batch";
        }
        if (last.StartsWith("Tables", StringComparison.Ordinal))
        {
            return method == "POST" ? "create-table" : method == "DELETE" ? "delete-table" : "list-tables";
        }
        var open = last.IndexOf('(', StringComparison.Ordinal);
        var keys = open >= 0 ? last[(open + 1)..].TrimEnd(')') : "";
        return method switch
        {
            "POST" => "insert",
            "PUT" => conditional ? "replace" : "upsert",
            "MERGE" or "PATCH" => "merge",
            "DELETE" => "delete",
            "GET" when keys.Contains("PartitionKey=", StringComparison.Ordinal) && keys.Contains("RowKey=", StringComparison.Ordinal) => "read",
            "GET" => "query",
            _ => "other",
        };
    }

    /// <summary>
    /// Queue operation of one request: POST …/messages → send; GET …/messages → receive (peek with peekonly);
    /// DELETE …/messages/{id} → delete; PUT …/messages/{id} → update; GET or HEAD on the queue → properties;
    /// PUT on the queue → create-queue.
    /// </summary>
    public static string QueueOperation(string method, string path, string query)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(path);
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var messages = Array.LastIndexOf(segments, "messages");
        if (messages < 0)
        {
            return method switch
            {
                "PUT" => "create-queue",
                "DELETE" => "delete-queue",
                "GET" or "HEAD" => "properties",
                _ => "other",
            };
        }
        var oneMessage = messages < segments.Length - 1;
        return method switch
        {
            "POST" => "send",
            "GET" when (query ?? "").Contains("peekonly=true", StringComparison.OrdinalIgnoreCase) => "peek",
            "GET" => "receive",
            "DELETE" when oneMessage => "delete",
            "DELETE" => "clear",
            "PUT" => "update",
            _ => "other",
        };
    }

    private static string LastSegment(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var trimmed = path.TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        return Uri.UnescapeDataString(slash >= 0 ? trimmed[(slash + 1)..] : trimmed);
    }
}
