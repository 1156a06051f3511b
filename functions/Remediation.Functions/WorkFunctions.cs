using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Remediation.Pipeline;
using Remediation.Verification;

namespace Remediation.Functions;

/// <summary>Queue and timer triggers over the same core code as the standalone host.</summary>
public sealed partial class WorkFunctions(WorkItemProcessor processor, StaleWorkSweeper sweeper, ILogger<WorkFunctions> logger)
{
    /// <summary>
    /// The incidents of one message (a delivery's new incidents, or a scheduled verification check). A throw leaves the
    /// message for retry; after maxDequeueCount (host.json) it is poisoned.
    /// </summary>
    [Function(nameof(ProcessWorkItem))]
    public Task ProcessWorkItem([QueueTrigger(FunctionSettings.WorkQueueExpression, Connection = "AzureWebJobsStorage")] string message, FunctionContext context,
        CancellationToken cancellationToken) =>
        processor.ProcessAsync(message, DequeueCount(context), cancellationToken);

    /// <summary>The queue trigger's DequeueCount (trigger metadata, sent as JSON text); 0 when absent or unreadable.</summary>
    internal static long DequeueCount(FunctionContext context) =>
        context.BindingContext.BindingData.TryGetValue("DequeueCount", out var value)
        && long.TryParse(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var count)
            ? count
            : 0;

    /// <summary>Records poisoned work items as Failed: never silently dropped.</summary>
    [Function(nameof(RecordPoisonedWorkItem))]
    public Task RecordPoisonedWorkItem([QueueTrigger(FunctionSettings.PoisonQueueExpression, Connection = "AzureWebJobsStorage")] string message, CancellationToken cancellationToken) =>
        processor.RecordPoisonAsync(message, $"work item failed {WorkItemProcessor.MaxDequeueCount} times and was moved to the poison queue", cancellationToken);

    /// <summary>Verification sweep on the schedule of app setting Remediation:VerifySchedule (every 15 seconds in Bicep and the sample settings).</summary>
    [Function(nameof(VerifyRemediations))]
    public async Task VerifyRemediations([TimerTrigger(FunctionSettings.VerifyScheduleExpression)] TimerInfo timer, CancellationToken cancellationToken)
    {
        var result = await sweeper.SweepAsync(cancellationToken).ConfigureAwait(false);
        LogSweep(result.Verified, result.Succeeded, result.Failed, result.Requeued);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sweep: {Verified} verifying, {Succeeded} succeeded, {Failed} failed, {Requeued} re-queued")]
    private partial void LogSweep(int verified, int succeeded, int failed, int requeued);
}
