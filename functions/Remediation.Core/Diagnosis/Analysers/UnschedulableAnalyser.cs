namespace Remediation.Diagnosis;

/// <summary>Most failing pods cannot be scheduled: quotes the scheduler (pod condition, else its FailedScheduling event).</summary>
public sealed class UnschedulableAnalyser : IWorkloadAnalyser
{
    public async Task<Finding?> AnalyseAsync(WorkloadView view, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (view.DominantFailure != FailureClass.Unschedulable)
        {
            return null;
        }
        var message = view.Failing.FirstOrDefault(f => f.Failure == FailureClass.Unschedulable)?.Detail
            ?? (await view.PodEventsAsync().ConfigureAwait(false)).FirstOrDefault(e => e.Reason == "FailedScheduling")?.Message
            ?? "no scheduler message";
        var summary = $"{view.Share(FailureClass.Unschedulable)} of {view.Target} cannot be scheduled: {message}"
            + (view.Previous is null ? "" : $"; revision {view.PreviousRevision} {(view.PreviousServing ? "still serves" : "ran before it")}");
        var finding = new Finding(FailureClass.Unschedulable, view.RevisionComponent, 0.9, summary);
        return view.Previous is null ? finding : view.WithRevisions(finding);
    }
}
