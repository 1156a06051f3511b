using System.Globalization;
using System.Text;

namespace Remediation.Benchmarks;

/// <summary>The "Capacity" section: storage requests counted per unit of work, set against Azure's published targets.</summary>
public sealed partial class BenchReport
{
    /// <summary>Azure Storage's published scalability targets (requests or entities or messages per second).</summary>
    private const double AccountRequests = 20_000;
    private const double PartitionEntities = 2_000;
    private const double QueueMessages = 2_000;

    public CapacityFigures? Capacity { get; set; }

    private void CapacitySection(StringBuilder b)
    {
        if (Capacity is not { } c)
        {
            return;
        }
        var n = (double)c.Alerts;
        b.AppendLine().AppendLine("## Capacity").AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"Storage requests are counted by the host itself: every request its table and queue clients send (retries included) is counted by a pipeline policy into `remediation_storage_requests_total{{service, operation}}` on /metrics; the bench reads /metrics before and after each step and divides. {c.Alerts} alerts on {c.Alerts} crash-looping workloads, one alert per delivery (no sharing of queue messages between alerts, the dearest case): ingested by a host with its worker off, delivered again, drained by a host with its worker on (each incident acts and is verified), then {c.Alerts} more alerts on the same workloads, drained (each refused: cooldown). Final states: {c.States}. The worker-side counts include what the sweep sent while the host drained (at its default interval, 5 s; the idle row shows it alone).").AppendLine();
        b.AppendLine("| unit | storage requests (by operation) |").AppendLine("|---|---|");
        b.AppendLine(CultureInfo.InvariantCulture, $"| new alert, ingest (claim + enqueue) | {c.PerAlert.Per(n)} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| duplicate delivery | {c.PerDuplicate.Per(n)} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| incident refused by the policy (worker side) | {c.Refused.Per(c.RefusedCount)} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| remediation: incident acted on and verified (worker side) | {c.Remediated.Per(c.RemediatedCount)} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| idle host, per second (queue polling backed off, the sweep) | {c.Idle.Per(c.IdleSeconds)} |");
        if (Storm?.Storage is { } stormCounts)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"| storm, per distinct alert, all in (groups of {Settings.StormGroupSize}, each delivered 3 times; ingest, worker, sweep) | {stormCounts.Per(Storm.Alerts)} |");
        }
        var refusedAlert = c.PerAlert.Total / n + c.Refused.Total / c.RefusedCount;
        var remediation = c.PerAlert.Total / n + c.Remediated.Total / c.RemediatedCount;
        var queuePerIncident = (c.PerAlert.Of("queue") + c.Refused.Of("queue")) / n;
        b.AppendLine();
        b.AppendLine("Published targets (Azure Storage, standard account): 20,000 requests/s per account (1 KiB entities or messages), 2,000 entities/s per table partition, 2,000 messages/s per queue ([Table Storage scalability targets](https://learn.microsoft.com/azure/storage/tables/scalability-targets), [Queue Storage scalability targets](https://learn.microsoft.com/azure/storage/queues/scalability-targets)). Azure Functions Flex Consumption: up to 1,000 instances per app, 2,048 or 4,096 MB per instance ([Flex Consumption plan](https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan)); a Flex app scales out far past the point where its storage account saturates, so storage, not instances, is the first ceiling.").AppendLine();
        b.AppendLine("| ceiling | what it carries, from the counts above | design change that removes it |").AppendLine("|---|---|---|");
        b.AppendLine(CultureInfo.InvariantCulture, $"| one storage account, 20,000 requests/s | {F(AccountRequests / refusedAlert, 0)} new alerts/s when each is refused ({F(refusedAlert, 2)} requests each), {F(AccountRequests / remediation, 0)} remediations/s ({F(remediation, 2)} each){(Storm?.Storage is { } sc ? $"; {F(AccountRequests / (sc.Total / Storm.Alerts), 0)} storm alerts/s (each delivered 3 times in groups of {Settings.StormGroupSize})" : "")} | shard incidents over several accounts by a hash of the incident id (claims, summaries and the work queue all key on it), N accounts carry N times the rate; the ledger and in-flight rows stay in one account. Made: an alert naming a Deployment its instance remembers in cooldown is refused at its claim, one insert and no work item (the refused rate above is for an instance that remembers nothing: after a restart, or on a new instance) |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| the work queue, 2,000 messages/s | {F(queuePerIncident, 2)} queue requests per refused incident (send, receive, delete, shared by up to 25 items per message when alerts arrive together): {F(QueueMessages / Math.Max(queuePerIncident, 1e-9), 0)} incidents/s with one alert per delivery{(Storm?.Storage is { } sq && sq.Of("queue") > 0 ? $"; in the storm (groups of {Settings.StormGroupSize}, deliveries that overlap sharing messages) {F(sq.Of("queue") / Storm.Alerts, 3)} queue requests per alert, {F(QueueMessages / (sq.Of("queue") / Storm.Alerts), 0)} alerts/s" : "")} | several work queues, picked by a hash of the incident id (the Functions trigger binds one function per queue); more items per message for grouped deliveries |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| the in-flight partition (table `{{incidents}}inflight`, one partition), 2,000 entities/s | per remediation: one insert, one delete, and one count that returns every row in flight (the maxConcurrent check), so about 2,000 / (k + 2) remediations/s with k in flight: ~{F(PartitionEntities / 12, 0)}/s at k = 10, ~{F(PartitionEntities / 102, 0)}/s at k = 100 | shard the partition (`inflight|0`…`inflight|7` by incident id) and sum the shards' counts, or keep the count in one ETag-guarded counter row (one read + one write per remediation, independent of k) |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| the ledger, one partition per workload, 2,000 entities/s | an incident of a workload reads its ledger row before diagnosis (a remediation also writes it), except while its instance remembers the workload in cooldown (60 s after reading it so or reserving its action): a storm on one workload reads its row about once per instance per minute; without that memo one workload's alerts would saturate the partition at ~{F(PartitionEntities, 0)} incidents/s, far above any one workload's alert rate; other workloads are unaffected | made: \"in cooldown until T\" is remembered per workload in each instance (`TargetLedger.CooldownMemo`, refusals only); an open breaker and every reservation still read the row |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| the incident key range: ids are time-ordered (12 hex digits of the alert's start, counted down, then the hash), so history pages come newest first with no index write | new claims land at one end of the key range: Table Storage serves a key range from one partition server and splits it by load, and documents keys in sequence as the prepend/append anti-pattern ([table design patterns](https://learn.microsoft.com/azure/storage/tables/table-storage-design-patterns#prependappend-anti-pattern)); plan on that server's share, of the order of the 2,000 entities/s partition target: ~{F(PartitionEntities / Math.Max(c.PerAlert.Of("table") / n, 1e-9), 0)} new alerts/s ({F(c.PerAlert.Of("table") / n, 2)} table requests each) | prefix the id with one hex digit of its hash (16 ranges written in parallel) and read the newest page as a merge of the 16 ranges' first pages; the id stays deterministic |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| the sweep's query for open incidents | a filter on State is not a key filter: the service scans every row of the table, so its cost grows with history, not with open work ({(c.Idle.Per(c.IdleSeconds))} requests/s at {2 * c.Alerts} incidents, idle) | made in part: the in-flight table is the sweep's index of incidents past Received, and the table is scanned (for lost work items of Received incidents) only when the queue is empty or once per `FullSweepInterval` (5 min), not every sweep; a per-day partition scanned only for the retention window would bound the idle scan too |");
    }
}
