using System.Diagnostics;
using Azure.Storage.Queues;
using Remediation.Storage;

namespace Remediation.Tests.Fixtures;

/// <summary>
/// Waits for a host to have no work left, so a test can then assert that nothing more happened (one mutation, one
/// outcome row) instead of sleeping and hoping. The proof: every incident has settled (Verifying or terminal) and the
/// work queue holds no message beyond the one scheduled check per incident in Verifying. The queue's approximate count
/// includes messages a worker is processing (they are deleted only when done) and delayed ones, so a straggling or
/// duplicate work item would still be counted.
/// </summary>
public static class Quiescence
{
    public static async Task WaitForNoPendingWorkAsync(QueueClient queue, Func<Task<IReadOnlyList<IncidentRecord>>> incidents, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(incidents);
        var clock = Stopwatch.StartNew();
        var last = "";
        while (clock.Elapsed < timeout)
        {
            var settled = await incidents();
            var open = settled.Where(i => i.State != IncidentState.Verifying && !IncidentLifecycle.IsTerminal(i.State)).ToList();
            var scheduledChecks = settled.Count(i => i.State == IncidentState.Verifying);
            var messages = await queue.ExistsAsync() ? (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount : 0;
            if (open.Count == 0 && messages <= scheduledChecks)
            {
                return;
            }
            last = $"{open.Count} incidents not settled ({string.Join(", ", open.Select(i => i.State).Distinct())}), {messages} queued messages for {scheduledChecks} scheduled checks";
            await Task.Delay(100);
        }
        throw new TimeoutException($"work did not settle within {timeout}: {last}");
    }

    /// <summary>The same for the in-process standalone host and the given incidents.</summary>
    public static Task WaitForNoPendingWorkAsync(this HostHarness host, TimeSpan timeout, params string[] incidentIds)
    {
        ArgumentNullException.ThrowIfNull(host);
        return WaitForNoPendingWorkAsync(host.Queue.Queue, () => LoadAsync(host.Store, incidentIds), timeout);
    }

    public static async Task<IReadOnlyList<IncidentRecord>> LoadAsync(IncidentStore store, IEnumerable<string> incidentIds)
    {
        ArgumentNullException.ThrowIfNull(store);
        var records = new List<IncidentRecord>();
        foreach (var id in incidentIds)
        {
            records.Add(await store.GetAsync(id) ?? throw new InvalidOperationException($"incident {id} is not recorded"));
        }
        return records;
    }
}
