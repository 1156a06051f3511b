using Remediation.ServiceGraph;

namespace Remediation.Diagnosis;

/// <summary>
/// Pods run and the workload fails requests (or answers slowly) in the mesh: reads the service graph around it and blames.
/// A callee down the chain to blame makes the workload a <see cref="FailureClass.Victim"/> whose component is the culprit
/// ("shop/payments"): it is never acted on, the culprit is. Its own fault (or no symptom in the graph) falls through to the
/// analysers after it. Unreadable mesh telemetry while the workload fails, or a partial failure of a callee, is unknown,
/// naming who is suspected.
/// </summary>
public sealed class ServiceGraphAnalyser : IWorkloadAnalyser
{
    private const string Source = "service graph";

    public async Task<Finding?> AnalyseAsync(WorkloadView view, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (view.HasFailingPods || !view.GraphConfigured)
        {
            return null;
        }
        var signals = await view.SignalsAsync().ConfigureAwait(false);
        if (SymptomOf(view, signals) is not { } symptom)
        {
            return null;
        }
        if (await view.BlameAsync(symptom).ConfigureAwait(false) is not var (reading, blame))
        {
            return null;
        }
        var evidence = blame.Evidence.Select(e => new Evidence(Source, e)).ToList();
        var target = view.Target;
        if (blame is { Verdict: BlameVerdict.Callee, Culprit: { } culprit })
        {
            return new Finding(FailureClass.Victim, culprit.ToString(), 0.8, blame.Summary) { Evidence = evidence };
        }
        if (reading.Graph is null)
        {
            return new Finding(FailureClass.Unknown, target.ToString(), 0.3,
                $"{target} fails, and the mesh telemetry to tell whether it or a workload it calls is to blame is unreadable ({reading.Unreadable}); "
                + $"suspected: {target} or its callees") { Evidence = evidence };
        }
        if (blame is { Verdict: BlameVerdict.Unknown, Suspected: { } suspected } && suspected != blame.Alerted)
        {
            return new Finding(FailureClass.Unknown, suspected.ToString(), 0.4,
                $"{target} fails; suspected {suspected}, which fails for some of its callers only (a partial failure): not blamed without a person") { Evidence = evidence };
        }
        return null;
    }

    /// <summary>Errors when enough traffic fails; else latency when p99 is high (absolute or against the baseline); null otherwise.</summary>
    private static Symptom? SymptomOf(WorkloadView view, MeshReading signals)
    {
        var options = view.Options;
        var now = signals.Now(view.Target.Name);
        if (ErrorRateAnalyser.Erroring(now, options) is not null)
        {
            return Symptom.Errors;
        }
        var before = signals.Before(view.Target.Name);
        var slow = now?.P99Ms is { } p99 && now.RequestsPerSecond >= options.MinRequestsPerSecond
            && (p99 >= options.LatencyThresholdMs || (before?.P99Ms is { } bp && bp > 0 && p99 >= bp * options.LatencyFactor));
        return slow ? Symptom.Latency : null;
    }
}
