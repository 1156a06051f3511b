namespace Remediation.Diagnosis;

/// <summary>
/// Bad rollout from the mesh signals: pods run, the workload fails requests (5xx at or above the threshold) since a recent
/// rollout, and its baseline from before that rollout was clean: roll back.
/// </summary>
public sealed class ErroringRolloutAnalyser : IWorkloadAnalyser
{
    public async Task<Finding?> AnalyseAsync(WorkloadView view, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (view.HasFailingPods)
        {
            return null;
        }
        var reading = await view.SignalsAsync().ConfigureAwait(false);
        var options = view.Options;
        if (ErrorRateAnalyser.Erroring(reading.Now(view.Target.Name), options) is not { } now || view.Previous is null
            || view.NewestAge is not { } age || age > options.RecentChange || age > options.BaselineOffset + options.MetricsWindow
            || reading.Before(view.Target.Name) is not { } before || before.ErrorRatio >= options.ErrorRatioThreshold)
        {
            return null;
        }
        return view.WithRevisions(new Finding(FailureClass.BadRollout, view.RevisionComponent, 0.7,
            $"{view.Target} fails {VersionSignals.Percent(now.ErrorRatio)} of requests since revision {view.NewestRevision} was rolled out {DiagnosisText.Age(age)} ago (baseline {VersionSignals.Percent(before.ErrorRatio)})"));
    }
}
