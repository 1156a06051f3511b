using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Remediation.Functions;

/// <summary>
/// The app settings the trigger attributes bind as <c>%name%</c> expressions. The Functions host resolves them; the
/// producers (ingest, verification scheduler) read the same keys through <see cref="RemediationOptions"/>, so the
/// queue the triggers listen on is the queue the work is sent to. The worker checks them at startup and refuses to start
/// with a message naming the setting rather than letting the host and the producers disagree.
/// </summary>
public static partial class FunctionSettings
{
    /// <summary>Work queue name (environment: Remediation__Storage__WorkQueue). The poison queue is its name + "-poison".</summary>
    public const string WorkQueue = "Remediation:Storage:WorkQueue";

    /// <summary>NCRONTAB schedule of the verification sweep (environment: Remediation__VerifySchedule).</summary>
    public const string VerifySchedule = "Remediation:VerifySchedule";

    public const string WorkQueueExpression = "%" + WorkQueue + "%";
    public const string PoisonQueueExpression = "%" + WorkQueue + "%-poison";
    public const string VerifyScheduleExpression = "%" + VerifySchedule + "%";

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first missing or invalid setting.</summary>
    public static void Validate(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var queue = configuration[WorkQueue];
        if (string.IsNullOrWhiteSpace(queue))
        {
            throw new InvalidOperationException($"App setting '{WorkQueue}' (Remediation__Storage__WorkQueue) is missing: the queue triggers bind it and the producers send to it.");
        }
        // Storage queue names: 3-63 characters, lowercase letters, digits and single dashes; "-poison" must still fit.
        if (queue.Length > 63 - "-poison".Length || !QueueName().IsMatch(queue))
        {
            throw new InvalidOperationException($"App setting '{WorkQueue}' (Remediation__Storage__WorkQueue) = '{queue}' is not a valid queue name whose '-poison' queue is also valid (3-56 characters: lowercase letters, digits, single dashes).");
        }
        var schedule = configuration[VerifySchedule];
        if (string.IsNullOrWhiteSpace(schedule))
        {
            throw new InvalidOperationException($"App setting '{VerifySchedule}' (Remediation__VerifySchedule) is missing: the VerifyRemediations timer binds it.");
        }
        if (!TimeSpan.TryParse(schedule, System.Globalization.CultureInfo.InvariantCulture, out _) && schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length != 6)
        {
            throw new InvalidOperationException($"App setting '{VerifySchedule}' (Remediation__VerifySchedule) = '{schedule}' is not a six-field NCRONTAB expression (seconds first) or a TimeSpan.");
        }
    }

    [GeneratedRegex("^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")]
    private static partial Regex QueueName();
}
