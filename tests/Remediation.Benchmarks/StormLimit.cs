using System.Threading.Channels;
using Azure;
using Azure.Data.Tables;
using Remediation.Storage;

namespace Remediation.Benchmarks;

/// <summary>The storm's storage limit: the storage work a storm cannot avoid, issued directly.</summary>
public static partial class Phases
{
    /// <summary>The storm's groups: alert indices in Alertmanager-sized groups.</summary>
    private static List<int[]> StormGroups(BenchSettings s, int alerts) =>
        Enumerable.Range(0, (alerts + s.StormGroupSize - 1) / s.StormGroupSize)
            .Select(g => Enumerable.Range(g * s.StormGroupSize, Math.Min(s.StormGroupSize, alerts - g * s.StormGroupSize)).ToArray())
            .ToList();

    /// <summary>Every group 3 times, in one shuffled order (fixed seed), as the storm delivers them.</summary>
    private static int[] StormDeliveries(int groups)
    {
        var deliveries = Enumerable.Range(0, 3).SelectMany(_ => Enumerable.Range(0, groups)).ToArray();
        new Random(42).Shuffle(deliveries);
        return deliveries;
    }

    /// <summary>
    /// The same deliveries as the storm, on the same Azurite, in a fresh table: one claim insert per alert delivered (a
    /// duplicate is answered 409, as in the storm), by the storm's senders with the host's 8 concurrent claims per
    /// delivery; and one summary write (merge) per incident, by as many writers as the host's queue concurrency, each
    /// as soon as its incident is claimed. Seconds from the first claim until the last summary is written.
    /// </summary>
    public static async Task<(double Seconds, string Composition)> StormLimitAsync(AzuriteProcess azurite, BenchSettings s, int alerts, int workloads)
    {
        var table = new TableServiceClient(azurite.ConnectionString).GetTableClient("limit" + alerts + "x" + Environment.ProcessId);
        await table.CreateIfNotExistsAsync().ConfigureAwait(false);
        var groups = StormGroups(s, alerts);
        var deliveries = StormDeliveries(groups.Count);
        var claimed = Channel.CreateUnbounded<string>();
        var inserts = 0;
        var duplicates = 0;
        var summaries = 0;
        var next = -1;
        var started = Clock.Now;
        var writers = Enumerable.Range(0, s.StormQueueConcurrency).Select(_ => Task.Run(async () =>
        {
            await foreach (var id in claimed.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                var summary = new TableEntity(id, IncidentRowKeys.For(IncidentRowKeys.Summary, id))
                {
                    ["State"] = "Refused", ["Outcome"] = "Refused", ["OutcomeReason"] = "cooldown: the workload was acted on within 1h", ["CompletedAt"] = TimeProvider.System.GetUtcNow(),
                };
                await table.UpsertEntityAsync(summary, TableUpdateMode.Merge).ConfigureAwait(false);
                Interlocked.Increment(ref summaries);
            }
        })).ToList();
        await Task.WhenAll(Enumerable.Range(0, s.StormSenders).Select(_ => Task.Run(async () =>
        {
            int d;
            while ((d = Interlocked.Increment(ref next)) < deliveries.Length)
            {
                await Parallel.ForEachAsync(groups[deliveries[d]], new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, token) =>
                {
                    var id = "limit-" + Payloads.Fingerprint(300, i);
                    var claim = new TableEntity(id, IncidentRowKeys.For(IncidentRowKeys.Summary, id))
                    {
                        ["State"] = "Received", ["Source"] = "Alertmanager", ["AlertName"] = "KubePodCrashLooping", ["Fingerprint"] = Payloads.Fingerprint(300, i),
                        ["Namespace"] = BenchCluster.Namespace, ["Workload"] = BenchCluster.StormName(i % workloads), ["ReceivedAt"] = TimeProvider.System.GetUtcNow(),
                        ["AlertJson"] = Payloads.Alertmanager([new Payloads.AlertSpec(BenchCluster.Namespace, BenchCluster.StormName(i % workloads), Payloads.Fingerprint(300, i), i)]),
                    };
                    try
                    {
                        await table.AddEntityAsync(claim, token).ConfigureAwait(false);
                        Interlocked.Increment(ref inserts);
                        await claimed.Writer.WriteAsync(id, token).ConfigureAwait(false);
                    }
                    catch (RequestFailedException e) when (e.Status == 409)
                    {
                        Interlocked.Increment(ref duplicates);
                    }
                }).ConfigureAwait(false);
            }
        }))).ConfigureAwait(false);
        claimed.Writer.Complete();
        await Task.WhenAll(writers).ConfigureAwait(false);
        var seconds = Clock.Ms(started, Clock.Now) / 1000.0;
        await table.DeleteAsync().ConfigureAwait(false);
        if (inserts != alerts || summaries != alerts)
        {
            throw new InvalidOperationException($"storm limit: {inserts} claims and {summaries} summaries for {alerts} alerts");
        }
        return (seconds, $"{inserts + duplicates:N0} claim inserts ({duplicates:N0} of them duplicates answered 409) by {s.StormSenders} senders × 8 concurrent claims, and {summaries:N0} summary merges by {s.StormQueueConcurrency} writers");
    }
}
