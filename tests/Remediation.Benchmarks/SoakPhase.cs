using Azure.Data.Tables;

namespace Remediation.Benchmarks;

/// <summary>The soak: ack p99 per minute, host RSS samples (seconds since start, MB), losses.</summary>
public sealed record SoakFigures(double Rate, double Seconds, double WarmUpSeconds, int Sent, int Failed, int Lost, bool Drained,
    IReadOnlyList<Samples> AckPerMinute, IReadOnlyList<(double Seconds, double Mb)> Rss, double? PeakRssMb)
{
    /// <summary>Least-squares slope of RSS after the warm-up, in MB per minute.</summary>
    public double RssSlopeMbPerMinute
    {
        get
        {
            var points = Rss.Where(p => p.Seconds >= WarmUpSeconds).ToList();
            if (points.Count < 2)
            {
                return double.NaN;
            }
            var mx = points.Average(p => p.Seconds);
            var my = points.Average(p => p.Mb);
            var sxx = points.Sum(p => (p.Seconds - mx) * (p.Seconds - mx));
            return sxx == 0 ? double.NaN : points.Sum(p => (p.Seconds - mx) * (p.Mb - my)) / sxx * 60;
        }
    }

    /// <summary>The last minute's ack p99 over the first minute's.</summary>
    public double AckP99Drift => AckPerMinute.Count < 2 ? double.NaN : AckPerMinute[^1].Percentile(99) / AckPerMinute[0].Percentile(99);
}

/// <summary>The soak.</summary>
public static partial class Phases
{
    /// <summary>
    /// Distinct single-alert deliveries at a fixed rate (open loop, latency from the scheduled time to the accepting answer,
    /// a refused delivery retried as Alertmanager does; failed = still refused after ten attempts) into the host process
    /// with its worker on, for 10 minutes (--quick: 30 s), on a simulator of its own; the host's RSS is sampled every 2 s. Then the bench waits until
    /// every incident is terminal and counts accepted incidents without their row.
    /// </summary>
    public static async Task<SoakFigures> SoakAsync(AzuriteProcess azurite, BenchSettings s)
    {
        // Its own simulator, its workloads crash-looping as the policy expects: on the shared one the storm phase has
        // already restarted them, so every soak alert would be diagnosed healthy (NoAction) instead of refused.
        await using var cluster = await BenchCluster.StartAsync(0, s.StormWorkloads, 0).ConfigureAwait(false);
        const double rate = 200;
        var seconds = s.Quick ? 30.0 : 600.0;
        var warmUp = s.Quick ? 10.0 : 60.0;
        var minute = s.Quick ? 10.0 : 60.0;
        var policy = await Hosts.WritePolicyAsync("soak", Hosts.StormPolicy).ConfigureAwait(false);
        var table = "soak" + Environment.ProcessId;
        var settings = Hosts.Settings(azurite.ConnectionString, cluster.BaseAddress, table, policy, worker: true);
        var (process, baseAddress, _) = await Hosts.StartProcessAsync(s.HostDll, settings, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        try
        {
            using var client = Hosts.Client(baseAddress);
            var count = (int)(rate * seconds);
            var perMinute = Enumerable.Range(0, (int)Math.Ceiling(seconds / minute)).Select(_ => new Samples()).ToList();
            var rss = new List<(double, double)>();
            var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
            var failed = 0;
            var start = Clock.Now + (long)(0.05 * TimeProvider.System.TimestampFrequency);
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested && ProcStatus.RssMb(process.Id) is { } mb)
                {
                    rss.Add((Clock.Ms(start, Clock.Now) / 1000, mb));
                    await Task.Delay(2000, CancellationToken.None).ConfigureAwait(false);
                }
            });
            var tasks = new List<Task>(count);
            for (var i = 0; i < count && !process.HasExited; i++)
            {
                var due = Clock.After(start, TimeSpan.FromSeconds(i / rate));
                await Clock.UntilAsync(due).ConfigureAwait(false);
                var body = Payloads.Alertmanager([new Payloads.AlertSpec(BenchCluster.Namespace, BenchCluster.StormName(i % s.StormWorkloads), Payloads.Fingerprint(500, i), i)]);
                var bucket = perMinute[(int)(i / rate / minute)];
                tasks.Add(Task.Run(async () =>
                {
                    var (ok, incidents) = await LoadGen.SendRetryingAsync(client, body).ConfigureAwait(false);
                    bucket.Add(Clock.Ms(due, Clock.Now));
                    if (!ok)
                    {
                        Interlocked.Increment(ref failed);
                    }
                    foreach (var id in incidents)
                    {
                        ids.Add(id);
                    }
                }));
                if (i % (int)(rate * minute) == 0 && i > 0)
                {
                    Console.WriteLine($"    {i / rate:F0} s: {i} sent, {Volatile.Read(ref failed)} failed so far, RSS {ProcStatus.RssMb(process.Id):F0} MB");
                }
            }
            await Task.WhenAll(tasks).ConfigureAwait(false);
            var store = new TableServiceClient(azurite.ConnectionString).GetTableClient(table);
            var drained = true;
            try
            {
                await UntilTerminalAsync(store, ids.Count).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                drained = false;
            }
            await sampling.CancelAsync().ConfigureAwait(false);
            await sampler.ConfigureAwait(false);
            var lost = await LoadGen.CountLostAsync(store, ids.ToList()).ConfigureAwait(false);
            var figures = new SoakFigures(rate, seconds, warmUp, count, failed, lost, drained, perMinute, rss.Where(p => p.Item1 <= seconds).ToList(), ProcStatus.PeakRssMb(process.Id));
            Console.WriteLine($"    {count} sent, {failed} failed, {lost} lost, drained {drained}; RSS slope {figures.RssSlopeMbPerMinute:F2} MB/min; ack p99 first {perMinute[0].Percentile(99):F1} ms, last {perMinute[^1].Percentile(99):F1} ms");
            return figures;
        }
        finally
        {
            await Hosts.StopProcessAsync(process).ConfigureAwait(false);
            File.Delete(policy);
        }
    }
}
