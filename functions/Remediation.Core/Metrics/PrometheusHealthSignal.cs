using Remediation.Diagnosis;
using Remediation.Verification;

namespace Remediation.Metrics;

/// <summary>
/// The Istio 5xx ratio of a workload (reporter="destination") from Prometheus: no ratio without traffic, and
/// <see cref="HealthReading.Unreadable"/> when Prometheus cannot be read.
/// </summary>
public sealed class PrometheusHealthSignal(IMeshSignals mesh) : IHealthSignal
{
    public async Task<HealthReading> ErrorRatioAsync(string @namespace, string workload, TimeSpan window, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(@namespace);
        ArgumentException.ThrowIfNullOrWhiteSpace(workload);
        try
        {
            // rate() needs two samples: never ask for less than 30 s.
            var ratio = await mesh.WorkloadErrorRatioAsync(@namespace, workload, AtLeast30s(window), cancellationToken).ConfigureAwait(false);
            return ratio is { } r ? HealthReading.Measured(r) : HealthReading.NoTraffic;
        }
        catch (Exception ex) when (IsReadFailure(ex, cancellationToken))
        {
            return Unreadable(ex);
        }
    }

    public async Task<HealthReading> ServiceErrorRatioAsync(string @namespace, string service, TimeSpan window, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(@namespace);
        ArgumentException.ThrowIfNullOrWhiteSpace(service);
        IReadOnlyList<VersionSignals> versions;
        try
        {
            versions = await mesh.VersionSignalsAsync(@namespace, [service], AtLeast30s(window), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsReadFailure(ex, cancellationToken))
        {
            return Unreadable(ex);
        }
        var requests = versions.Sum(v => v.RequestsPerSecond);
        return requests > 0 ? HealthReading.Measured(versions.Sum(v => v.ErrorRatio * v.RequestsPerSecond) / requests) : HealthReading.NoTraffic;
    }

    /// <summary>Any failure to get an answer, except the caller giving up.</summary>
    private static bool IsReadFailure(Exception ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException;

    private static HealthReading Unreadable(Exception ex) => HealthReading.CouldNotRead("prometheus: " + MetricsFailure.Describe(ex));

    private static TimeSpan AtLeast30s(TimeSpan window) => window < TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : window;
}
