using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Data.Tables;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Storage;

namespace Remediation.Benchmarks;

public sealed record AckFigures(IReadOnlyList<LoadResult> Runs);

public sealed record StartupFigures(string Variant, string Directory, Samples ReadyMs);

/// <summary>The measured phases. Each uses its own table and queue on the same Azurite and simulator.</summary>
public static partial class Phases
{
    /// <summary>Ack latency at fixed rates (open loop) and at saturation (closed loop), then rows counted for loss.</summary>
    public static async Task<AckFigures> AckAsync(AzuriteProcess azurite, BenchCluster cluster, BenchSettings s)
    {
        var policy = await Hosts.WritePolicyAsync("ack", Hosts.ActingPolicy).ConfigureAwait(false);
        var table = "ack" + Environment.ProcessId;
        // Worker off: the ingest path alone (claim + enqueue) is measured; the queue keeps the work items.
        var (app, baseAddress) = await Hosts.StartInProcessAsync(Hosts.Settings(azurite.ConnectionString, cluster.BaseAddress, table, policy, worker: false)).ConfigureAwait(false);
        var runs = new List<LoadResult>();
        try
        {
            using var client = Hosts.Client(baseAddress);
            var store = app.Services.GetRequiredService<IncidentStore>();
            Func<int, string> target = i => BenchCluster.StormName(i % 100);
            Console.WriteLine("  warm-up (closed loop, 4 senders, 3 s; not reported)");
            await LoadGen.ClosedLoopAsync(client, "warm-up", 100, 4, 1, TimeSpan.FromSeconds(3), target).ConfigureAwait(false);
            var phase = 101;
            foreach (var (rate, seconds) in s.Rates)
            {
                Console.WriteLine($"  open loop {rate}/s for {seconds} s");
                var run = await LoadGen.OpenLoopAsync(client, $"open loop {rate}/s, 1 alert/request", phase++, rate, (int)(rate * seconds), target).ConfigureAwait(false);
                run.Lost = await LoadGen.CountLostAsync(store.Table, run.AcceptedIds).ConfigureAwait(false);
                runs.Add(run);
                Console.WriteLine($"    p50 {run.Latency.Percentile(50):F1} ms, p99 {run.Latency.Percentile(99):F1} ms, {run.AlertsPerSecond:F0} alerts/s, failed {run.Failed}, lost {run.Lost}");
            }
            foreach (var (senders, perRequest) in s.Saturation)
            {
                Console.WriteLine($"  closed loop {senders} senders x {perRequest} alerts/request for {s.SaturationSeconds} s");
                var run = await LoadGen.ClosedLoopAsync(client, $"saturation: {senders} senders, {perRequest} alerts/request", phase++, senders, perRequest,
                    TimeSpan.FromSeconds(s.SaturationSeconds), target).ConfigureAwait(false);
                run.Lost = await LoadGen.CountLostAsync(store.Table, run.AcceptedIds).ConfigureAwait(false);
                runs.Add(run);
                Console.WriteLine($"    p50 {run.Latency.Percentile(50):F1} ms, p99 {run.Latency.Percentile(99):F1} ms, {run.AlertsPerSecond:F0} alerts/s, failed {run.Failed}, lost {run.Lost}");
            }
        }
        finally
        {
            await app.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            File.Delete(policy);
        }
        return new AckFigures(runs);
    }

    /// <summary>Process start → first 200 on /healthz, for each published variant (ReadyToRun on/off), alternating runs.</summary>
    public static async Task<IReadOnlyList<StartupFigures>> StartupAsync(AzuriteProcess azurite, BenchCluster cluster, BenchSettings s)
    {
        var policy = await Hosts.WritePolicyAsync("startup", Hosts.ActingPolicy).ConfigureAwait(false);
        var settings = Hosts.Settings(azurite.ConnectionString, cluster.BaseAddress, "startup" + Environment.ProcessId, policy, worker: true);
        var figures = s.StartupVariants.Select(v => new StartupFigures(v.Name, v.Directory, new Samples())).ToList();
        try
        {
            for (var run = 0; run < s.StartupRuns + 1; run++)
            {
                foreach (var f in figures)
                {
                    var (process, _, ready) = await Hosts.StartProcessAsync(Path.Combine(f.Directory, "remediation.dll"), settings, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
                    await Hosts.StopProcessAsync(process).ConfigureAwait(false);
                    if (run > 0)
                    {
                        // The first round only warms the OS file cache.
                        f.ReadyMs.Add(ready.TotalMilliseconds);
                    }
                }
            }
        }
        finally
        {
            File.Delete(policy);
        }
        foreach (var f in figures)
        {
            Console.WriteLine($"    {f.Variant}: median {f.ReadyMs.Percentile(50):F0} ms (n={f.ReadyMs.Count})");
        }
        return figures;
    }
}
