namespace Remediation.Diagnosis;

/// <summary>
/// Metrics-only degradation: pods run but the workload fails requests (5xx at or above the threshold) with no recent change
/// to blame (after <see cref="ErroringRolloutAnalyser"/>): unknown, for a person to look at.
/// </summary>
public sealed class ErrorRateAnalyser : IWorkloadAnalyser
{
    public async Task<Finding?> AnalyseAsync(WorkloadView view, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (view.HasFailingPods || Erroring((await view.SignalsAsync().ConfigureAwait(false)).Now(view.Target.Name), view.Options) is not { } now)
        {
            return null;
        }
        return new Finding(FailureClass.Unknown, view.Target.ToString(), 0.4,
            $"{view.Target} fails {VersionSignals.Percent(now.ErrorRatio)} of requests with running pods and no recent change");
    }

    /// <summary>The signals when they show enough traffic failing at or above the error threshold; null otherwise.</summary>
    internal static VersionSignals? Erroring(VersionSignals? signals, DiagnosisOptions options) =>
        signals is { } s && s.RequestsPerSecond >= options.MinRequestsPerSecond && s.ErrorRatio >= options.ErrorRatioThreshold ? s : null;
}
