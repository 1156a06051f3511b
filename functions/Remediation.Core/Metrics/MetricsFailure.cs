using System.Net;
using System.Net.Sockets;

namespace Remediation.Metrics;

/// <summary>Why a metrics query could not be answered, in words an operator reads (no .NET type names).</summary>
public static class MetricsFailure
{
    public static string Describe(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex switch
        {
            HttpRequestException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused } } => "connection refused",
            HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } => "host name not resolved",
            HttpRequestException { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden } h => $"access refused ({(int)h.StatusCode!}): {h.Message}",
            PrometheusQueryException { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden } p => $"access refused ({(int)p.StatusCode!}): {p.Message}",
            HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } h => $"connection failed: {h.Message}",
            OperationCanceledException => "timed out",
            _ => ex.Message,
        };
    }
}
