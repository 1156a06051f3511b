using System.Net;
using Remediation.Diagnosis;

namespace Remediation.Metrics;

/// <summary>Why a metrics query could not be answered, in words an operator reads (no .NET type names).</summary>
public static class MetricsFailure
{
    public static string Describe(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex switch
        {
            PrometheusQueryException { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden } p => $"access refused ({(int)p.StatusCode!}): {p.Message}",
            _ => SourceFailure.Describe(ex),
        };
    }
}
