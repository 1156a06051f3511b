namespace Remediation.ServiceGraph;

/// <summary>Health of a node or edge, as Kiali shows it; <see cref="NotEnoughTraffic"/> is neither healthy nor failing.</summary>
public enum Health
{
    NotEnoughTraffic,
    Healthy,
    Degraded,
    Failure,
}

/// <summary>
/// Error-ratio tolerances (ratios, 0..1): at or above <c>Degraded</c> (and above 0) a node or edge is degraded, at or
/// above <c>Failure</c> it fails. Defaults are Kiali's: 5xx degraded above 0 %, failure at 10 %; 4xx 10 % / 20 %. gRPC
/// error statuses count as 5xx. Below <see cref="MinRequestsPerSecond"/> there is not enough traffic to judge.
/// </summary>
public sealed record HealthThresholds(
    double ServerErrorDegraded = 0,
    double ServerErrorFailure = 0.10,
    double ClientErrorDegraded = 0.10,
    double ClientErrorFailure = 0.20,
    double MinRequestsPerSecond = 0.1)
{
    public static HealthThresholds Kiali { get; } = new();

    /// <summary>Null when the thresholds are usable, else why not (naming the field).</summary>
    public string? Problem()
    {
        foreach (var (name, value) in new[]
        {
            ("serverErrorDegraded", ServerErrorDegraded), ("serverErrorFailure", ServerErrorFailure),
            ("clientErrorDegraded", ClientErrorDegraded), ("clientErrorFailure", ClientErrorFailure),
        })
        {
            if (!double.IsFinite(value) || value is < 0 or > 1)
            {
                return $"{name} must be a ratio between 0 and 1";
            }
        }

        if (ServerErrorDegraded > ServerErrorFailure)
        {
            return "serverErrorDegraded must not be above serverErrorFailure";
        }

        if (ClientErrorDegraded > ClientErrorFailure)
        {
            return "clientErrorDegraded must not be above clientErrorFailure";
        }

        return double.IsFinite(MinRequestsPerSecond) && MinRequestsPerSecond >= 0 ? null : "minRequestsPerSecond must be 0 or more";
    }
}

/// <summary>Kiali's traffic-health rules, per node (its inbound traffic) and per edge.</summary>
public static class HealthRules
{
    /// <summary>The worse of the server-error (5xx and gRPC) and client-error (4xx) health; not enough traffic below the minimum rate.</summary>
    public static Health Of(EdgeStats? stats, HealthThresholds? thresholds = null)
    {
        var t = thresholds ?? HealthThresholds.Kiali;
        if (stats is null || !double.IsFinite(stats.RequestsPerSecond) || stats.RequestsPerSecond <= 0 || stats.RequestsPerSecond < t.MinRequestsPerSecond)
        {
            return Health.NotEnoughTraffic;
        }

        var server = Rate(stats.FailureRatio, t.ServerErrorDegraded, t.ServerErrorFailure);
        var client = Rate(stats.ClientErrorRatio, t.ClientErrorDegraded, t.ClientErrorFailure);
        return server > client ? server : client;
    }

    /// <summary>Server-side (5xx and gRPC) health only: what a callee's failures do to its callers.</summary>
    public static Health ServerSide(EdgeStats? stats, HealthThresholds? thresholds = null)
    {
        var t = thresholds ?? HealthThresholds.Kiali;
        return Of(stats is null ? null : stats with { ClientErrorRatio = 0 }, t);
    }

    public static Health OfNode(MeshGraph graph, WorkloadId workload, HealthThresholds? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return Of(graph.Inbound(workload), thresholds);
    }

    private static Health Rate(double ratio, double degraded, double failure)
    {
        if (!double.IsFinite(ratio) || ratio <= 0)
        {
            return Health.Healthy;
        }

        return ratio >= failure ? Health.Failure : ratio >= degraded ? Health.Degraded : Health.Healthy;
    }

    public static string Describe(Health health) => health switch
    {
        Health.NotEnoughTraffic => "not enough traffic",
        Health.Healthy => "healthy",
        Health.Degraded => "degraded",
        _ => "failure",
    };
}
