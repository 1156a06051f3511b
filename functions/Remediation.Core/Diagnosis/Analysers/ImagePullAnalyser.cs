namespace Remediation.Diagnosis;

/// <summary>Most failing pods cannot pull their image: names the image and the revision that ran before it.</summary>
public sealed class ImagePullAnalyser : IWorkloadAnalyser
{
    public Task<Finding?> AnalyseAsync(WorkloadView view, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (view.DominantFailure != FailureClass.ImagePull)
        {
            return Task.FromResult<Finding?>(null);
        }
        var images = view.Failing.Where(f => f.Failure == FailureClass.ImagePull).Select(f => f.Image).OfType<string>().Distinct().ToList();
        var summary = $"{view.Share(FailureClass.ImagePull)} of {view.Target} cannot pull image {string.Join(", ", images)}"
            + (view.Previous is not { } previous ? ""
                : $"; revision {view.PreviousRevision} ({DiagnosisText.Images(previous)}) {(view.PreviousServing ? "still serves" : "ran before it")}");
        var finding = new Finding(FailureClass.ImagePull, view.RevisionComponent, 0.9, summary);
        return Task.FromResult<Finding?>(view.Previous is null ? finding : view.WithRevisions(finding));
    }
}
