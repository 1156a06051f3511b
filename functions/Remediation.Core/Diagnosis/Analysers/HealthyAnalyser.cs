namespace Remediation.Diagnosis;

/// <summary>
/// Every pod of the newest revision is ready (and, when metrics are configured, they could be read): the alert is stale.
/// Unknown when Prometheus is configured but unreadable, since ready pods alone do not show that.
/// </summary>
public sealed class HealthyAnalyser : IWorkloadAnalyser
{
    public async Task<Finding?> AnalyseAsync(WorkloadView view, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (view.HasFailingPods || view.Pods.Count == 0 || !view.Pods.All(p => p.Ready))
        {
            return null;
        }
        var reading = await view.SignalsAsync().ConfigureAwait(false);
        var target = view.Target;
        if (reading.MetricsUnavailable is { } why)
        {
            return new Finding(FailureClass.Unknown, target.ToString(), 0.3,
                $"metrics unavailable: {why}; all {view.Pods.Count} pods of {target} are ready, which alone does not show the alert is stale");
        }
        var now = reading.Now(target.Name);
        var metricsNote = !reading.Configured ? " (no metrics consulted: Prometheus is not configured)"
            : now is null ? "" : $", 5xx {VersionSignals.Percent(now.ErrorRatio)}";
        return new Finding(FailureClass.Healthy, target.ToString(), now is null ? 0.7 : 0.85,
            $"all {view.Pods.Count} pods of {target} are ready{metricsNote}; the alert looks stale");
    }
}
