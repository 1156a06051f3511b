namespace Remediation.Diagnosis;

/// <summary>Pods crash-loop with no recent change to blame (after <see cref="CrashingRolloutAnalyser"/>): a restart may help.</summary>
public sealed class CrashLoopAnalyser : IWorkloadAnalyser
{
    public Task<Finding?> AnalyseAsync(WorkloadView view, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (view.DominantFailure != FailureClass.CrashLoop)
        {
            return Task.FromResult<Finding?>(null);
        }
        var age = view.NewestAge is { } g ? DiagnosisText.Age(g) + " old" : "unknown";
        return Task.FromResult<Finding?>(new Finding(FailureClass.CrashLoop, view.RevisionComponent, 0.8,
            $"{view.Share(FailureClass.CrashLoop)} of {view.Target} crash-loop with no recent change (newest revision {age}{(view.Previous is null ? ", no earlier revision" : "")})"));
    }
}
