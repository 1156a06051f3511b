namespace Remediation.Diagnosis;

/// <summary>
/// The analysers of <see cref="KubernetesDiagnoser"/>, in precedence order: the first that finds something decides the
/// diagnosis. A new failure class is one <see cref="IWorkloadAnalyser"/> and one line here, placed by precedence.
/// </summary>
public static class WorkloadAnalysers
{
    public static IReadOnlyList<IWorkloadAnalyser> InPrecedence { get; } =
    [
        // Pods of the newest revision fail: the failure most of them show decides (ties in this order).
        new OutOfMemoryAnalyser(),
        new ImagePullAnalyser(),
        new UnschedulableAnalyser(),
        new CrashingRolloutAnalyser(),
        new CrashLoopAnalyser(),
        // Pods run and fail requests or answer slowly: a callee to blame makes the workload a victim, acted on through its culprit.
        new ServiceGraphAnalyser(),
        // Pods run: the mesh signals and the HPA decide; a degraded version before the workload's own error rate.
        new DegradedVersionAnalyser(),
        new ErroringRolloutAnalyser(),
        new ErrorRateAnalyser(),
        new SaturationAnalyser(),
        new HealthyAnalyser(),
    ];
}
