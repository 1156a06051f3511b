using System.Net;
using System.Net.Sockets;
using k8s.Autorest;
using Remediation.Storage;

namespace Remediation.Diagnosis;

/// <summary>
/// Why a data source (Kubernetes API, Prometheus, Log Analytics) could not be read, in words an operator reads: never a
/// .NET type name. Adapters with their own failure vocabulary (e.g. the Prometheus API's error types) describe those
/// first and fall back to this.
/// </summary>
public static class SourceFailure
{
    private const int MaxResponseText = 300;

    public static string Describe(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex switch
        {
            HttpRequestException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused } } => "connection refused",
            HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } => "host name not resolved",
            HttpRequestException { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden } h => $"access refused ({(int)h.StatusCode!}): {h.Message}",
            HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } h => $"connection failed: {h.Message}",
            // A Kubernetes API answer other than success, as the cluster adapter reports it: status, reason, the start of the body.
            HttpOperationException { Response: { } response } => $"{(int)response.StatusCode} {response.ReasonPhrase}: {Truncate(response.Content)}",
            TransientDependencyException or TimeoutException => ex.Message,
            OperationCanceledException => "timed out",
            _ => ex.Message,
        };
    }

    private static string Truncate(string? s) => s is null ? "" : s.Length > MaxResponseText ? s[..MaxResponseText] : s;
}
