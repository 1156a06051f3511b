using Azure;

namespace Remediation.Storage;

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
        AggregateException agg => agg.InnerExceptions.All(IsTransient),
        TaskCanceledException tce => tce.InnerException is TimeoutException,
        _ => false,
    };
}
