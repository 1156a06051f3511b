using Remediation.Metrics;

namespace Remediation.Verification;

/// <summary>The Istio 5xx ratio of a workload (reporter="destination") from Prometheus; null without traffic.</summary>
public sealed class PrometheusHealthSignal(IMeshSignals mesh) : IHealthSignal
{
    public Task<double?> ErrorRatioAsync(string @namespace, string workload, TimeSpan window, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(@namespace);
        ArgumentException.ThrowIfNullOrWhiteSpace(workload);
        // rate() needs two samples: never ask for less than 30 s.
        return mesh.WorkloadErrorRatioAsync(@namespace, workload, window < TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : window, cancellationToken);
    }
}
