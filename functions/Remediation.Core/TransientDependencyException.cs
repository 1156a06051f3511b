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
}
