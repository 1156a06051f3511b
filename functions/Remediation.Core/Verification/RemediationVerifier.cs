using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Remediation.Actions;
using Remediation.Incidents;
using Remediation.Cluster;
using Remediation.Policy;
using Remediation.Storage;

namespace Remediation.Verification;

/// <summary>
/// The verify stage: checks remediations awaiting verification (rollout complete, error ratio back under the bound)
/// before their deadline, reverts what failed and can be reverted, and records the verdict through the
/// <see cref="IncidentRecorder"/>. Stateless; ETags make concurrent checks safe. Lost work is the
/// <see cref="StaleWorkSweeper"/>'s.
/// </summary>
public sealed partial class RemediationVerifier(
    IIncidentStore store,
    IClusterReader reader,
    IClusterWriters writers,
    IHealthSignal healthSignal,
    IncidentRecorder recorder,
    VerificationScheduler scheduler,
    TimeProvider timeProvider,
    ILogger<RemediationVerifier> logger)
{
    /// <summary>
    /// Checks the listed incidents that awaited verification when listed (the sweep's safety net for a check whose message
    /// was lost); returns how many were checked, succeeded and failed. One check failing does not hold up the others.
    /// </summary>
    public async Task<(int Verified, int Succeeded, int Failed)> VerifyListedAsync(IEnumerable<IncidentRecord> listed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(listed);
        int verified = 0, succeeded = 0, failed = 0;
        foreach (var summary in listed.Where(i => i.State == IncidentState.Verifying))
        {
            verified++;
            WorkResult result;
            try
            {
                // Not Verifying any more: concluded by its scheduled check since the scan; not counted here.
                result = await store.GetAsync(summary.IncidentId, cancellationToken).ConfigureAwait(false) is { State: IncidentState.Verifying } incident
                    ? WorkResult.In(await VerifyAsync(incident, cancellationToken).ConfigureAwait(false))
                    : WorkResult.ConcludedElsewhere;
            }
            catch (Exception ex) when (IsCheckFailure(ex))
            {
                // It is checked again on the next sweep.
                LogVerifyFailed(summary.IncidentId, ex.Message);
                continue;
            }
            switch (result.State)
            {
                case IncidentState.Succeeded: succeeded++; break;
                case IncidentState.Failed: failed++; break;
            }
        }
        return (verified, succeeded, failed);
    }

    /// <summary>
    /// A scheduled check (a delayed work item): checks the incident if it still awaits verification and, while it does,
    /// schedules the next check. A check that cannot reach the cluster or storage is rescheduled, not failed.
    /// </summary>
    public async Task<WorkResult> VerifyScheduledAsync(string incidentId, CancellationToken cancellationToken = default)
    {
        var incident = await store.GetAsync(incidentId, cancellationToken).ConfigureAwait(false);
        if (incident is null)
        {
            return WorkResult.Missing;
        }
        if (incident.State != IncidentState.Verifying)
        {
            return WorkResult.In(incident.State);
        }
        var plan = JsonSerializer.Deserialize(incident.PlanJson ?? "null", ActionJsonContext.Default.ActionPlan);
        IncidentState state;
        try
        {
            state = await VerifyAsync(incident, plan, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsCheckFailure(ex))
        {
            LogVerifyFailed(incident.IncidentId, ex.Message);
            state = IncidentState.Verifying;
        }
        if (state == IncidentState.Verifying && plan is not null)
        {
            await scheduler.ScheduleAsync(incident, plan.Verify, cancellationToken).ConfigureAwait(false);
        }
        return WorkResult.In(state);
    }

    /// <summary>Checks one incident in Verifying; returns its state afterwards.</summary>
    public Task<IncidentState> VerifyAsync(IncidentRecord incident, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(incident);
        return VerifyAsync(incident, JsonSerializer.Deserialize(incident.PlanJson ?? "null", ActionJsonContext.Default.ActionPlan), cancellationToken);
    }

    private async Task<IncidentState> VerifyAsync(IncidentRecord incident, ActionPlan? plan, CancellationToken cancellationToken)
    {
        if (plan is null)
        {
            return await FinishAsync(incident, null, IncidentState.Failed, "no plan recorded; cannot verify", cancellationToken).ConfigureAwait(false);
        }
        var actedAt = incident.ActedAt ?? incident.ReceivedAt;
        var check = await CheckAsync(plan, actedAt, cancellationToken).ConfigureAwait(false);
        var (passed, detail) = (check.Passed, check.Detail);
        if (passed && timeProvider.GetUtcNow() - actedAt < plan.Verify.Soak)
        {
            // Healthy so far; a crash-looping workload often looks fine for a few seconds after a restart.
            return IncidentState.Verifying;
        }
        if (passed)
        {
            return await FinishAsync(incident, plan, IncidentState.Succeeded, $"verified: {detail}", cancellationToken).ConfigureAwait(false);
        }
        if (timeProvider.GetUtcNow() < incident.VerifyDeadline)
        {
            return IncidentState.Verifying;
        }
        if (check.MetricsUnavailable && check.ReadablePassed)
        {
            // Nothing read shows a failure, but the metrics the plan is verified on could not be read: unknown, not a
            // success, and not a failure to revert or count against the target. A human must look.
            return await FinishAsync(incident, plan, IncidentState.Escalated,
                $"could not be verified by the deadline: {detail}; a human must look (nothing reverted)", cancellationToken).ConfigureAwait(false);
        }
        var reason = $"not healthy by the deadline: {detail}";
        if (plan.Revert.Count > 0)
        {
            reason += await RevertAsync(plan, cancellationToken).ConfigureAwait(false);
        }
        return await FinishAsync(incident, plan, IncidentState.Failed, reason, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A check's verdict: <see cref="ReadablePassed"/> covers what could be read; unreadable metrics fail it too, and so
    /// does a plan that names nothing to check (unknown, never a success).
    /// </summary>
    private sealed record CheckResult(bool ReadablePassed, string Detail, bool MetricsUnavailable)
    {
        public bool Passed => ReadablePassed && !MetricsUnavailable;
    }

    private async Task<CheckResult> CheckAsync(ActionPlan plan, DateTimeOffset actedAt, CancellationToken cancellationToken)
    {
        var details = new List<string>();
        var passed = true;
        var spec = plan.Verify;
        if (spec.RolloutComplete && spec.Deployment is { } name)
        {
            var deployment = await reader.GetDeploymentAsync(plan.Target.Namespace, name, cancellationToken).ConfigureAwait(false);
            if (deployment is null)
            {
                return new CheckResult(false, $"Deployment {plan.Target.Namespace}/{name} no longer exists", MetricsUnavailable: false);
            }
            var desired = deployment.Spec.Replicas ?? 1;
            var status = deployment.Status;
            var complete = status is not null
                && (status.ObservedGeneration ?? 0) >= (deployment.Metadata.Generation ?? 0)
                && (status.UpdatedReplicas ?? 0) == desired
                && (status.Replicas ?? 0) == desired
                && (status.AvailableReplicas ?? 0) == desired
                && (status.ReadyReplicas ?? 0) == desired;
            passed &= complete;
            details.Add(string.Create(CultureInfo.InvariantCulture,
                $"rollout {(complete ? "complete" : "incomplete")}: {status?.UpdatedReplicas ?? 0} updated, {status?.ReadyReplicas ?? 0} ready, {status?.AvailableReplicas ?? 0} available of {desired}"));
            var pods = await reader.PodsOfAsync(deployment, cancellationToken).ConfigureAwait(false);
            var crashed = pods
                .SelectMany(p => (p.Status?.ContainerStatuses ?? []).Select(c => (Pod: p.Metadata.Name, Container: c)))
                .Where(x => x.Container.State?.Waiting?.Reason is "CrashLoopBackOff" or "ImagePullBackOff" or "ErrImagePull"
                    || x.Container.LastState?.Terminated?.FinishedAt is { } finished && finished > actedAt.UtcDateTime)
                .Select(x => $"{x.Pod}/{x.Container.Name} ({x.Container.State?.Waiting?.Reason ?? x.Container.LastState?.Terminated?.Reason ?? "restarted"})")
                .ToList();
            if (crashed.Count > 0)
            {
                passed = false;
                details.Add($"containers failing since the action: {string.Join(", ", crashed.Take(5))}");
            }
        }
        var (ratioPassed, metricsUnavailable) = spec.MaxErrorRatio is { } max
            ? await CheckErrorRatioAsync(plan, max, details, cancellationToken).ConfigureAwait(false)
            : (true, false);
        passed &= ratioPassed;
        return details.Count == 0 ? new CheckResult(true, "the plan names nothing to verify", MetricsUnavailable: true) : new CheckResult(passed, string.Join("; ", details), metricsUnavailable);
    }

    /// <summary>
    /// The plan's error-ratio check, its detail added to <paramref name="details"/>: passed (as far as read), and whether the
    /// ratio was unknown (unreadable, or absent with no rollout to verify by instead).
    /// </summary>
    private async Task<(bool Passed, bool MetricsUnavailable)> CheckErrorRatioAsync(ActionPlan plan, double max, List<string> details, CancellationToken cancellationToken)
    {
        var spec = plan.Verify;
        var (scope, reading) = spec.MetricsService is { } service
            ? ($"service {service}", await ReadAsync(ct => healthSignal.ServiceErrorRatioAsync(plan.Target.Namespace, service, TimeSpan.FromMinutes(1), ct), cancellationToken).ConfigureAwait(false))
            : ($"workload {spec.MetricsWorkload ?? plan.Target.Name}", await ReadAsync(ct => healthSignal.ErrorRatioAsync(plan.Target.Namespace, spec.MetricsWorkload ?? plan.Target.Name, TimeSpan.FromMinutes(1), ct), cancellationToken).ConfigureAwait(false));
        if (reading.Unreadable is { } why)
        {
            details.Add($"metrics unavailable: error ratio of {scope} could not be read ({why})");
            return (true, true);
        }
        if (reading.Ratio is { } r)
        {
            details.Add(string.Create(CultureInfo.InvariantCulture, $"error ratio of {scope} {r:P2} (bound {max:P2})"));
            return (r <= max, false);
        }
        if (spec.RolloutComplete && spec.Deployment is not null)
        {
            details.Add($"error ratio of {scope} not available ({reading.NoRatio ?? "no ratio"}); verified on rollout state only");
            return (true, false);
        }
        // No ratio and no rollout to check (a traffic shift): nothing was verified. Unknown, never a success; at the deadline
        // a human must look, and nothing is reverted on a reading that shows no failure.
        details.Add($"error ratio of {scope} not available ({reading.NoRatio ?? "no ratio"}) and the plan has nothing else to verify it by");
        return (true, true);
    }

    /// <summary>A health signal that throws could not be read: that is unknown, never healthy.</summary>
    private static async Task<HealthReading> ReadAsync(Func<CancellationToken, Task<HealthReading>> read, CancellationToken cancellationToken)
    {
        try
        {
            return await read(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            return HealthReading.CouldNotRead(Diagnosis.SourceFailure.Describe(ex));
        }
    }

    private async Task<string> RevertAsync(ActionPlan plan, CancellationToken cancellationToken)
    {
        foreach (var mutation in plan.Revert)
        {
            try
            {
                await writers.For(dryRun: false).ApplyAsync(mutation, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is k8s.Autorest.HttpOperationException or TransientDependencyException)
            {
                LogRevertFailed(plan.Target.ToString(), ClusterCall.Describe(ex));
                return $"; revert FAILED ({mutation.Description}): {ClusterCall.Describe(ex)}";
            }
        }
        return $"; reverted to the recorded prior state ({string.Join(", ", plan.Revert.Select(m => m.Description))})";
    }

    /// <summary>
    /// Records the verdict through the recorder, only while the incident still awaits verification: when two checks race,
    /// one records the verdict and the other stands down (and returns the state it found).
    /// </summary>
    private async Task<IncidentState> FinishAsync(IncidentRecord incident, ActionPlan? plan, IncidentState state, string reason, CancellationToken cancellationToken)
    {
        var recorded = await recorder.FinishAsync(incident, new IncidentFinish(FinishKind.Verified, state, reason) { Plan = plan }, cancellationToken).ConfigureAwait(false);
        // No row (deleted meanwhile): nothing recorded; the verdict reached is returned.
        return recorded.Written ? state : recorded.State ?? state;
    }

    /// <summary>A check that could not reach the cluster, storage or metrics: the incident is checked again later.</summary>
    private static bool IsCheckFailure(Exception ex) =>
        ex is TransientDependencyException or k8s.Autorest.HttpOperationException or Azure.RequestFailedException;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Incident {IncidentId}: verification check failed ({Error}); checked again later")]
    private partial void LogVerifyFailed(string incidentId, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Revert on {Target} failed: {Error}")]
    private partial void LogRevertFailed(string target, string error);
}
