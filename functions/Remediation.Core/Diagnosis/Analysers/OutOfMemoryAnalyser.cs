namespace Remediation.Diagnosis;

/// <summary>Most failing pods are OOMKilled: a restart will not help; names the memory limit.</summary>
public sealed class OutOfMemoryAnalyser : IWorkloadAnalyser
{
    public Task<Finding?> AnalyseAsync(WorkloadView view, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (view.DominantFailure != FailureClass.OutOfMemory)
        {
            return Task.FromResult<Finding?>(null);
        }
        var limits = view.Failing.Where(f => f.Failure == FailureClass.OutOfMemory && f.MemoryLimit is not null).Select(f => $"{f.Container}={f.MemoryLimit}").Distinct().ToList();
        var limitText = limits.Count > 0 ? $"memory limit {string.Join(", ", limits)}" : "no memory limit set";
        var finding = new Finding(FailureClass.OutOfMemory, view.RevisionComponent, 0.9,
            $"{view.Share(FailureClass.OutOfMemory)} of {view.Target} are OOMKilled ({limitText}); a restart will not help")
        {
            Evidence =
            [
                new Evidence("kubernetes", $"containers are OOMKilled at {limitText}; a restart will not help (raise the limit or fix the leak)",
                    new Dictionary<string, string> { ["memoryLimit"] = string.Join(",", limits) }),
            ],
        };
        return Task.FromResult<Finding?>(view.RecentChange ? view.WithRevisions(finding) : finding);
    }
}
