using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Remediation;

/// <summary>How the resilience handler's refusals read to an operator (no runtime type names).</summary>
public static class ResilienceFailure
{
    /// <summary>
    /// While the breaker is open, the failure that opened it (a connection refused stays a connection refused, so the
    /// reason an operator reads names the cause); null for anything else.
    /// </summary>
    public static HttpRequestException? Cause(Exception exception) => exception is BrokenCircuitException { InnerException: HttpRequestException cause }
        ? new HttpRequestException(cause.HttpRequestError, cause.Message + " (calls paused: circuit open after repeated failures)", cause.InnerException, cause.StatusCode)
        : null;

    /// <summary>The breaker is open or an attempt timed out in the handler: said in words, else null.</summary>
    public static string? Describe(Exception exception) => exception switch
    {
        BrokenCircuitException => "unavailable: calls paused after repeated failures (circuit open)",
        TimeoutRejectedException t => $"timed out after {t.Timeout.TotalSeconds:0.#}s",
        _ => null,
    };
}
