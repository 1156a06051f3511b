using System.Globalization;

namespace Remediation.Diagnosis;

/// <summary>
/// Pods run, and one version subset of the service is degraded (5xx, else p99) while a sibling version is healthy: shift
/// traffic away from it. Adds the Istio routing of the service as evidence.
/// </summary>
public sealed class DegradedVersionAnalyser : IWorkloadAnalyser
{
    /// <summary>A slow version is compared only from this p99 (ms) up.</summary>
    private const double MinDegradedP99Ms = 100;

    public async Task<Finding?> AnalyseAsync(WorkloadView view, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (view.HasFailingPods || Degraded((await view.SignalsAsync().ConfigureAwait(false)).ByVersion(), view.Options) is not { } degraded)
        {
            return null;
        }
        var bad = degraded.Bad;
        var best = degraded.Healthy.OrderBy(h => h.ErrorRatio).First();
        var why = degraded.ByErrors
            ? $"fails {VersionSignals.Percent(bad.ErrorRatio)} of requests (5xx) while {best.Version} fails {VersionSignals.Percent(best.ErrorRatio)}"
            : string.Create(CultureInfo.InvariantCulture, $"has p99 {bad.P99Ms:0} ms while {best.Version} has {best.P99Ms:0} ms");
        return new Finding(FailureClass.DegradedVersion, $"{view.Service}:{bad.Version}", degraded.ByErrors ? 0.85 : 0.7,
            $"version {bad.Version} of {view.Target.Namespace}/{view.Service} ({bad.Workload}) {why}")
        {
            Evidence = await view.RoutingAsync().ConfigureAwait(false),
            DegradedVersion = bad.Version,
            HealthyVersions = degraded.Healthy.Select(h => h.Version).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
        };
    }

    private sealed record Degradation(VersionSignals Bad, IReadOnlyList<VersionSignals> Healthy, bool ByErrors);

    private static Degradation? Degraded(IReadOnlyList<VersionSignals> versions, DiagnosisOptions options)
    {
        var active = versions.Where(v => v.RequestsPerSecond >= options.MinRequestsPerSecond).ToList();
        if (active.Count < 2)
        {
            return null;
        }
        var worst = active.OrderByDescending(v => v.ErrorRatio).First();
        var healthy = active.Where(v => v.Version != worst.Version && v.ErrorRatio < options.ErrorRatioThreshold).ToList();
        if (worst.ErrorRatio >= options.ErrorRatioThreshold && healthy.Count > 0
            && worst.ErrorRatio >= options.DegradedFactor * Math.Max(healthy.Min(h => h.ErrorRatio), 0.001))
        {
            return new Degradation(worst, healthy, true);
        }
        var slowest = active.Where(v => v.P99Ms is not null).OrderByDescending(v => v.P99Ms).FirstOrDefault();
        var fast = active.Where(v => slowest is not null && v.Version != slowest.Version && v.P99Ms is { } p && p * options.LatencyFactor <= slowest.P99Ms
            && v.ErrorRatio < options.ErrorRatioThreshold).ToList();
        return slowest is not null && fast.Count > 0 && slowest.P99Ms >= MinDegradedP99Ms ? new Degradation(slowest, fast, false) : null;
    }
}
