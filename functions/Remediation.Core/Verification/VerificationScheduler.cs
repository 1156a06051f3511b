using Microsoft.Extensions.Logging;
using Remediation.Actions;
using Remediation.Storage;

namespace Remediation.Verification;

/// <summary>
/// Schedules the checks of a remediation awaiting verification as delayed work items on the work queue (a Storage
/// Queue message stays invisible until its check is due): the first when the soak ends, then every
/// <see cref="RemediationOptions.VerifyPollInterval"/>, and one at the deadline. A remediation is verified as soon as it
/// can be, whatever the sweep's cadence; the sweep stays the safety net for a check whose message was lost.
/// </summary>
public sealed partial class VerificationScheduler(WorkQueue queue, RemediationOptions options, TimeProvider timeProvider, ILogger<VerificationScheduler> logger)
{
    /// <summary>No check sooner than this after the previous one.</summary>
    public static readonly TimeSpan MinDelay = TimeSpan.FromSeconds(1);

    /// <summary>A check due at the end of the soak runs this much later, so it is not a hair early.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(250);

    /// <summary>When the next check of <paramref name="incident"/> is due, from now.</summary>
    public TimeSpan NextDelay(IncidentRecord incident, VerificationSpec spec)
    {
        ArgumentNullException.ThrowIfNull(incident);
        ArgumentNullException.ThrowIfNull(spec);
        var now = timeProvider.GetUtcNow();
        var soakEnd = (incident.ActedAt ?? incident.ReceivedAt) + spec.Soak;
        var delay = now < soakEnd ? soakEnd - now + Margin : options.VerifyPollInterval;
        if (incident.VerifyDeadline is { } deadline && deadline - now + Margin < delay)
        {
            // The deadline comes first (or has passed): check right after it, when a failing check concludes.
            delay = deadline - now + Margin;
        }
        return delay < MinDelay ? MinDelay : delay;
    }

    /// <summary>Queues the next check; false (logged) when storage refused it: the sweep then checks the incident.</summary>
    public async Task<bool> ScheduleAsync(IncidentRecord incident, VerificationSpec spec, CancellationToken cancellationToken = default)
    {
        var delay = NextDelay(incident, spec);
        try
        {
            await queue.EnqueueAsync(new WorkMessage([new WorkItem(incident.IncidentId, incident.TraceParent, Verify: true)]), delay, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TransientDependencyException ex)
        {
            LogScheduleFailed(incident.IncidentId, ex.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Incident {IncidentId}: could not schedule its verification check ({Error}); the sweep will check it")]
    private partial void LogScheduleFailed(string incidentId, string error);
}
