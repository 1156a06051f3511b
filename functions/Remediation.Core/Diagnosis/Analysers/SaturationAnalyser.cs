using System.Globalization;

namespace Remediation.Diagnosis;

/// <summary>
/// Pods run and the workload is loaded: p99 latency high (absolute, or against the baseline) or CPU at the HPA's target.
/// Saturated (a scale-out candidate) when no HPA can add replicas; unknown when the HPA has headroom or the error rate
/// could not be read.
/// </summary>
public sealed class SaturationAnalyser : IWorkloadAnalyser
{
    public async Task<Finding?> AnalyseAsync(WorkloadView view, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (view.HasFailingPods)
        {
            return null;
        }
        var reading = await view.SignalsAsync().ConfigureAwait(false);
        var hpa = await view.HpaAsync().ConfigureAwait(false);
        var now = reading.Now(view.Target.Name);
        var before = reading.Before(view.Target.Name);
        var options = view.Options;
        var latencyHigh = now?.P99Ms is { } p99 && now.RequestsPerSecond >= options.MinRequestsPerSecond
            && (p99 >= options.LatencyThresholdMs || (before?.P99Ms is { } bp && bp > 0 && p99 >= bp * options.LatencyFactor));
        var cpuHigh = hpa is { CpuCurrent: { } cpu, CpuTarget: { } cpuTarget } && cpu >= cpuTarget;
        if (!latencyHigh && !cpuHigh)
        {
            return null;
        }
        var reasons = string.Join(", ", Reasons(latencyHigh ? now : null, before, cpuHigh ? hpa : null, now));
        var target = view.Target;
        if (reading.MetricsUnavailable is { } why)
        {
            return new Finding(FailureClass.Unknown, target.ToString(), 0.3,
                $"metrics unavailable: {why}; {target} looks loaded ({reasons}), but without its error rate that alone does not show saturation");
        }
        if (hpa is null || hpa.AtMax)
        {
            var scaling = hpa is null ? "no HPA scales it" : $"HPA {hpa.Name} is at its maximum ({hpa.Current}/{hpa.Max} replicas, wants {hpa.Desired})";
            return new Finding(FailureClass.Saturation, target.ToString(), latencyHigh && cpuHigh ? 0.85 : 0.7,
                $"{target} is saturated: {reasons}; {scaling}: scale-out candidate");
        }
        return new Finding(FailureClass.Unknown, target.ToString(), 0.4,
            $"{target} looks loaded ({reasons}) but HPA {hpa.Name} still has headroom ({hpa.Current}/{hpa.Max})");
    }

    /// <summary>The high latency (with its baseline), the high CPU, and the error ratio, as the summary names them.</summary>
    private static IEnumerable<string> Reasons(VersionSignals? slow, VersionSignals? before, HpaState? busy, VersionSignals? now)
    {
        if (slow is not null)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"p99 {slow.P99Ms:0} ms")
                + (before?.P99Ms is { } was ? string.Create(CultureInfo.InvariantCulture, $" (baseline {was:0} ms)") : "");
        }
        if (busy is not null)
        {
            yield return $"CPU {busy.CpuCurrent}% of request (target {busy.CpuTarget}%)";
        }
        if (now is not null)
        {
            yield return $"5xx {VersionSignals.Percent(now.ErrorRatio)}";
        }
    }
}
