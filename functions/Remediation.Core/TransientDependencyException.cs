using Azure;

namespace Remediation;

/// <summary>A dependency (storage, the cluster) failed in a way a retry can fix; senders get 503 + Retry-After.</summary>
public sealed class TransientDependencyException(string dependency, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public string Dependency { get; } = dependency;
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>True when a storage failure is transient: no connection, timeout, throttling or a 5xx.</summary>
    public static bool IsTransient(Exception ex) => ex switch
    {
        RequestFailedException rfe => rfe.Status is 0 or 408 or 429 or >= 500,
        HttpRequestException or TimeoutException or IOException => true,
        // The SDK's retry gives up with an AggregateException of its attempts' failures. An attempt cancelled in there is
        // its network timeout (waiting for a connection or for the answer): the caller's own cancellation ends the
        // retries at once and is thrown as it is, never inside the aggregate.
        AggregateException agg => agg.InnerExceptions.All(e => e is OperationCanceledException || IsTransient(e)),
        // A network timeout of the SDK (not the caller's cancellation): a cancelled task over a timeout or I/O failure.
        TaskCanceledException tce => tce.InnerException is { } inner && (inner is TimeoutException || IsTransient(inner)),
        _ => false,
    };

    /// <summary>
    /// A storage failure as a transient fault whose message says what happened in the project's words ("storage
    /// unavailable: timed out, 3 attempts"), never the SDK's own text (its retry advice, headers, type names): the message
    /// can reach a sender's 503, a CLI line or an incident's reason. The SDK's exception stays the inner one, for logs.
    /// </summary>
    public static TransientDependencyException Storage(Exception failure) =>
        new("storage", $"storage unavailable: {Describe(failure)}", failure);

    /// <summary>What a transient storage failure was, in a few words.</summary>
    public static string Describe(Exception failure) => failure switch
    {
        AggregateException { InnerExceptions.Count: > 0 } agg => $"{Describe(agg.InnerExceptions[^1])}, {agg.InnerExceptions.Count} attempts",
        RequestFailedException { Status: 0 } => "no answer",
        RequestFailedException rfe => string.IsNullOrEmpty(rfe.ErrorCode) ? $"answered {rfe.Status}" : $"answered {rfe.Status} {rfe.ErrorCode}",
        TimeoutException or OperationCanceledException => "timed out",
        HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } => "host name not found",
        HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } => "no connection",
        HttpRequestException or IOException => "connection lost",
        _ => "request failed",
    };
}
