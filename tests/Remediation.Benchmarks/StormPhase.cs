using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Data.Tables;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Storage;

namespace Remediation.Benchmarks;
public sealed record StormFigures(int Alerts, int Deliveries, int Failed, int Incidents, int Actions, int WorkloadsActedOnce, int Refused, int Succeeded,
    int Failures, int NonTerminal, double IngestSeconds, double DrainSeconds, bool Drained, double? PeakRssMb, int MutatingPerRemediationMax, string States)
{
    public int Workloads { get; init; }

    /// <summary>Storage requests the host counted from the first delivery until drained.</summary>
    public StorageCounts? Storage { get; init; }

    /// <summary>The storm's storage limit (seconds), measured right after it on the same Azurite; null when not measured.</summary>
    public double? LimitSeconds { get; init; }

    public string? LimitComposition { get; init; }

    /// <summary>Requests the cluster (the simulator) served from the first delivery until drained, by verb and resource.</summary>
    public string? ClusterRequests { get; init; }

    public double? LimitRatio => LimitSeconds is > 0 and { } l ? DrainSeconds / l : null;
}

/// <summary>The alert storm.</summary>
public static partial class Phases
{
    /// <summary>
    /// The storm: distinct alerts over 100 workloads, in Alertmanager-sized groups, every group delivered 3 times, into
    /// the host running as its own process (so its peak RSS is its own). Actions are counted at the simulator.
    /// </summary>
    public static async Task<StormFigures> StormAsync(AzuriteProcess azurite, BenchCluster cluster, BenchSettings s)
    {
        var storm = await StormAsync(azurite, cluster, s, s.StormAlerts, s.StormWorkloads, s.StormTimeoutSeconds).ConfigureAwait(false);
        var (limit, composition) = await StormLimitAsync(azurite, s, s.StormAlerts, s.StormWorkloads).ConfigureAwait(false);
        Console.WriteLine($"    storage limit: {limit:F1} s ({composition}); drain / limit = {storm.DrainSeconds / limit:F2}");
        return storm with { LimitSeconds = limit, LimitComposition = composition };
    }

    /// <summary>A storm of <paramref name="alerts"/> distinct alerts over <paramref name="workloads"/> workloads.</summary>
    public static async Task<StormFigures> StormAsync(AzuriteProcess azurite, BenchCluster cluster, BenchSettings s, int alerts, int workloads, double timeoutSeconds)
    {
        var policy = await Hosts.WritePolicyAsync("storm", Hosts.StormPolicy).ConfigureAwait(false);
        var table = "storm" + alerts + "x" + Environment.ProcessId;
        var settings = Hosts.Settings(azurite.ConnectionString, cluster.BaseAddress, table, policy, worker: true);
        settings["Remediation:Host:QueueConcurrency"] = s.StormQueueConcurrency.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var before = cluster.Cluster.Requests.Count;
        var gateBefore = cluster.Cluster.GateStatistics();
        var (process, baseAddress, _) = await Hosts.StartProcessAsync(s.HostDll, settings, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        const int phase = 300;
        var pid = process.Id;
        double? peak = null;
        try
        {
            using var client = Hosts.Client(baseAddress);
            var storeTable = new TableServiceClient(azurite.ConnectionString).GetTableClient(table);
            var store = new IncidentStore(storeTable);
            var groups = StormGroups(s, alerts)
                .Select(g => Payloads.Alertmanager(g.Select(i => new Payloads.AlertSpec(BenchCluster.Namespace, BenchCluster.StormName(i % workloads), Payloads.Fingerprint(phase, i), i)).ToList()))
                .ToList();
            var deliveries = StormDeliveries(groups.Count);
            Console.WriteLine($"  {alerts} alerts over {workloads} workloads, {groups.Count} groups of {s.StormGroupSize}, each delivered 3 times ({deliveries.Length} requests, {s.StormSenders} senders)");
            var countsBefore = await StorageCounts.ReadAsync(baseAddress).ConfigureAwait(false);
            var started = Clock.Now;
            var next = -1;
            var failed = 0;
            await Task.WhenAll(Enumerable.Range(0, s.StormSenders).Select(sender => Task.Run(async () =>
            {
                int d;
                while ((d = Interlocked.Increment(ref next)) < deliveries.Length && !process.HasExited)
                {
                    var (ok, _) = await LoadGen.SendRetryingAsync(client, groups[deliveries[d]]).ConfigureAwait(false);
                    if (!ok)
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
            }))).ConfigureAwait(false);
            var ingestSeconds = Clock.Ms(started, Clock.Now) / 1000.0;
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the host process exited during the storm (exit code {process.ExitCode})");
            }
            Console.WriteLine($"    delivered in {ingestSeconds:F1} s ({failed} failed after retries); draining...");

            var open = IncidentRowKeys.SummaryFilter + " and (State eq 'Received' or State eq 'Acting' or State eq 'Verifying')";
            var drained = false;
            var nonTerminal = -1;
            var total = 0;
            var drainedAt = Clock.Now;
            var timeout = Clock.After(started, TimeSpan.FromSeconds(timeoutSeconds));
            // Polling must not load the storage it measures: a scan of the incidents table under Azurite evaluates every row
            // for every page (at 100,000 incidents a count of them all took ~45 s), so the bench waits on two small signals,
            // the work queue's message count (invisible messages included) and the remediations in flight (their own
            // table), and only then confirms with scans: nothing open, every alert recorded, and no write by the host while
            // it scanned. Drained is when the signals said so (the scans' own time is not the host's).
            var workQueue = new Azure.Storage.Queues.QueueServiceClient(azurite.ConnectionString).GetQueueClient("work-" + table);
            var inFlight = new TableServiceClient(azurite.ConnectionString).GetTableClient(InFlightTable.NameFor(table));
            while (Clock.Now < timeout)
            {
                peak = ProcStatus.PeakRssMb(pid) ?? peak;
                if ((await workQueue.GetPropertiesAsync().ConfigureAwait(false)).Value.ApproximateMessagesCount > 0 || await AnyOpenRegistrationAsync(inFlight, store).ConfigureAwait(false))
                {
                    await Task.Delay(250).ConfigureAwait(false);
                    continue;
                }
                var quiet = Clock.Now;
                var writes = Writes(await StorageCounts.ReadAsync(baseAddress).ConfigureAwait(false));
                nonTerminal = await CountAsync(storeTable, open).ConfigureAwait(false);
                if (nonTerminal == 0)
                {
                    total = await CountAsync(storeTable, IncidentRowKeys.SummaryFilter).ConfigureAwait(false);
                    if (total >= alerts && Writes(await StorageCounts.ReadAsync(baseAddress).ConfigureAwait(false)) == writes)
                    {
                        (drained, drainedAt) = (true, quiet);
                        break;
                    }
                }
                await Task.Delay(500).ConfigureAwait(false);
            }
            var drainSeconds = Clock.Ms(started, drained ? drainedAt : Clock.Now) / 1000.0;
            peak = ProcStatus.PeakRssMb(pid) ?? peak;
            var counted = await StorageCounts.ReadAsync(baseAddress).ConfigureAwait(false) - countsBefore;
            total = await CountAsync(storeTable, IncidentRowKeys.SummaryFilter).ConfigureAwait(false);
            if (!drained)
            {
                // Not drained: the loop scanned only when the work queue was empty (or never), so count the open incidents as they are at the end.
                nonTerminal = await CountAsync(storeTable, open).ConfigureAwait(false);
            }
            var refused = await CountAsync(storeTable, IncidentRowKeys.SummaryFilter + " and State eq 'Refused'").ConfigureAwait(false);
            var succeeded = await CountAsync(storeTable, IncidentRowKeys.SummaryFilter + " and State eq 'Succeeded'").ConfigureAwait(false);
            var failures = await CountAsync(storeTable, IncidentRowKeys.SummaryFilter + " and State eq 'Failed'").ConfigureAwait(false);
            var states = new Dictionary<string, int>(StringComparer.Ordinal);
            var otherReasons = new Dictionary<string, int>(StringComparer.Ordinal);
            await foreach (var row in storeTable.QueryAsync<TableEntity>(IncidentRowKeys.SummaryFilter, maxPerPage: 1000, select: ["State", "OutcomeReason"]).ConfigureAwait(false))
            {
                var state = row.GetString("State") ?? "(none)";
                states[state] = states.GetValueOrDefault(state) + 1;
                if (state is not ("Refused" or "Succeeded"))
                {
                    var reason = $"{state}: {row.GetString("OutcomeReason")}";
                    otherReasons[reason] = otherReasons.GetValueOrDefault(reason) + 1;
                }
            }
            var stateText = string.Join(", ", states.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Value:N0} {kv.Key}"));
            Console.WriteLine($"    states: {stateText}");
            foreach (var (reason, count) in otherReasons.OrderByDescending(kv => kv.Value).Take(5))
            {
                Console.WriteLine($"      {count} × {reason}");
            }
            Console.WriteLine($"    {(drained ? "drained" : "NOT drained")} after {drainSeconds:F1} s: {total} incidents, {nonTerminal} not terminal");

            var gate = cluster.Cluster.GateStatistics();
            var waits = gate.ApiWaitsMs.Skip(gateBefore.ApiWaitsMs.Count).ToList();
            var served = cluster.Cluster.Requests.Skip(before).ToList();
            var clusterRequests = $"{served.Count:N0} ({string.Join(", ", served.GroupBy(r => r.Verb + " " + r.Resource).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count():N0}"))}); "
                + $"they waited {waits.Sum() / 1000:F1} s in all for the simulator's lock, which its controller held {(gate.ControllerHeldMs - gateBefore.ControllerHeldMs) / 1000:F1} s "
                + $"(letting waiting requests in {gate.ControllerYields - gateBefore.ControllerYields:N0} times, after at most {ClusterSimulator.SimulatedCluster.HoldAtMost.TotalMilliseconds:F0} ms each)";
            Console.WriteLine($"    cluster: {clusterRequests}");
            var mutating = served
                .Where(r => r.IsMutating && r.Namespace == BenchCluster.Namespace && r.Name?.StartsWith("storm-", StringComparison.Ordinal) == true).ToList();
            var perWorkload = mutating.GroupBy(r => r.Name).ToList();
            return new StormFigures(alerts, deliveries.Length, failed, total, mutating.Count, perWorkload.Count(g => g.Count() == 1), refused, succeeded, failures,
                nonTerminal, ingestSeconds, drainSeconds, drained, peak, perWorkload.Count == 0 ? 0 : perWorkload.Max(g => g.Count()), stateText)
            {
                Workloads = workloads,
                Storage = counted,
                ClusterRequests = clusterRequests,
            };
        }
        finally
        {
            await Hosts.StopProcessAsync(process).ConfigureAwait(false);
            File.Delete(policy);
        }
    }

    /// <summary>The host's writes so far: every storage request but reads, queries and receives.</summary>
    private static double Writes(StorageCounts counts) =>
        counts.ByOperation.Where(kv => !kv.Key.EndsWith(" read", StringComparison.Ordinal) && !kv.Key.EndsWith(" query", StringComparison.Ordinal)
            && !kv.Key.EndsWith(" receive", StringComparison.Ordinal) && !kv.Key.EndsWith(" properties", StringComparison.Ordinal)).Sum(kv => kv.Value);

    /// <summary>
    /// True while a registration in flight names an incident that is not terminal. A registration whose incident has
    /// concluded is bookkeeping (its writer, or a late one, or the sweep removes it): it does not hold the drain, which is
    /// about the incidents' states.
    /// </summary>
    private static async Task<bool> AnyOpenRegistrationAsync(TableClient inFlight, IncidentStore incidents)
    {
        try
        {
            await foreach (var row in inFlight.QueryAsync<TableEntity>(maxPerPage: 100, select: ["RowKey"]).ConfigureAwait(false))
            {
                if (await incidents.GetColumnsAsync(row.RowKey, ["State"]).ConfigureAwait(false) is not { } summary || !IncidentLifecycle.IsTerminal(summary.State))
                {
                    return true;
                }
            }
            return false;
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            // Not created yet: the host creates it with its first remediation.
            return false;
        }
    }

    private static async Task<int> CountAsync(TableClient table, string filter)
    {
        var n = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: ["PartitionKey"]).ConfigureAwait(false))
        {
            n++;
        }
        return n;
    }
}
