namespace Remediation.Diagnosis;

/// <summary>
/// Bad rollout from pod states: the newest revision crash-loops while an earlier one ran before it (recently replaced, or
/// still serving): roll back to it.
/// </summary>
public sealed class CrashingRolloutAnalyser : IWorkloadAnalyser
{
    public Task<Finding?> AnalyseAsync(WorkloadView view, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (view.DominantFailure != FailureClass.CrashLoop || view.Newest is not { } newest || view.Previous is not { } previous
            || !(view.RecentChange || view.PreviousServing))
        {
            return Task.FromResult<Finding?>(null);
        }
        var summary = $"revision {view.NewestRevision} of {view.Target} ({DiagnosisText.Images(newest)}) crash-loops ({view.Share(FailureClass.CrashLoop)}) "
            + $"since it was rolled out {DiagnosisText.Age(view.NewestAge ?? TimeSpan.Zero)} ago; revision {view.PreviousRevision} ({DiagnosisText.Images(previous)}) ran before it";
        return Task.FromResult<Finding?>(view.WithRevisions(new Finding(FailureClass.BadRollout, view.RevisionComponent, view.RecentChange ? 0.85 : 0.7, summary)));
    }
}
