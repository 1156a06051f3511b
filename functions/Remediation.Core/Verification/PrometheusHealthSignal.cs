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
        return mesh.WorkloadErrorRatioAsync(@namespace, workload, AtLeast30s(window), cancellationToken);
    }

    public async Task<double?> ServiceErrorRatioAsync(string @namespace, string service, TimeSpan window, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(@namespace);
        ArgumentException.ThrowIfNullOrWhiteSpace(service);
        var versions = await mesh.VersionSignalsAsync(@namespace, [service], AtLeast30s(window), cancellationToken: cancellationToken).ConfigureAwait(false);
        var requests = versions.Sum(v => v.RequestsPerSecond);
        return requests > 0 ? versions.Sum(v => v.ErrorRatio * v.RequestsPerSecond) / requests : null;
    }

    private static TimeSpan AtLeast30s(TimeSpan window) => window < TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : window;
}
