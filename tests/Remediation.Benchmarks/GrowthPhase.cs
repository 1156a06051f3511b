namespace Remediation.Benchmarks;

/// <summary>One size of the growth storms.</summary>
public sealed record GrowthStep(int Alerts, int Workloads, StormFigures Storm)
{
    /// <summary>Drain time per alert, in milliseconds.</summary>
    public double CostMs => Storm.DrainSeconds * 1000 / Alerts;
}

public sealed record GrowthFigures(IReadOnlyList<GrowthStep> Steps)
{
    /// <summary>log(t2/t1)/log(n2/n1) between consecutive sizes: 1 is linear.</summary>
    public IEnumerable<double> Exponents => Steps.Zip(Steps.Skip(1), (a, b) => Math.Log(b.Storm.DrainSeconds / a.Storm.DrainSeconds) / Math.Log((double)b.Alerts / a.Alerts));

    /// <summary>Cost per alert of each step over the step before (1.25 = 25 % dearer).</summary>
    public IEnumerable<double> CostRises => Steps.Zip(Steps.Skip(1), (a, b) => b.CostMs / a.CostMs);

    /// <summary>The storage limit's own time per alert at each step over the step before (null where either was not measured).</summary>
    public IEnumerable<double?> LimitRises => Steps.Zip(Steps.Skip(1), (a, b) => a.Storm.LimitSeconds is > 0 and { } la && b.Storm.LimitSeconds is { } lb ? lb / b.Alerts / (la / a.Alerts) : (double?)null);
}

/// <summary>The storm at growing sizes.</summary>
public static partial class Phases
{
    /// <summary>The storm at 10,000, 30,000 and 100,000 alerts (100 / 300 / 1,000 workloads); --quick: 300, 900, 3,000 (10 / 30 / 100).</summary>
    public static IReadOnlyList<(int Alerts, int Workloads)> GrowthSizes(BenchSettings s) =>
        s.GrowthSizes ?? (s.Quick ? [(300, 10), (900, 30), (3_000, 100)] : [(10_000, 100), (30_000, 300), (100_000, 1_000)]);

    /// <summary>
    /// Each size on a fresh Azurite and a fresh simulator holding exactly its workloads (all crash-looping), so no size
    /// inherits rows, messages or restarted workloads from another; then that size's storage limit on the same Azurite
    /// (<see cref="StormLimitAsync"/>), so a rise in cost per alert can be set against the storage's own.
    /// </summary>
    public static async Task<GrowthFigures> GrowthAsync(BenchSettings s)
    {
        var steps = new List<GrowthStep>();
        foreach (var (alerts, workloads) in GrowthSizes(s))
        {
            Console.WriteLine($"  size {alerts:N0} alerts, {workloads} workloads");
            await using var cluster = await BenchCluster.StartAsync(0, workloads, 0).ConfigureAwait(false);
            await using var azurite = await AzuriteProcess.StartAsync().ConfigureAwait(false);
            // The timeout grows with the size (10 ms per alert, at least the storm's own).
            var storm = await StormAsync(azurite, cluster, s, alerts, workloads, Math.Max(s.StormTimeoutSeconds, alerts / 100.0)).ConfigureAwait(false);
            Console.WriteLine($"    {storm.DrainSeconds:F1} s, {storm.DrainSeconds * 1000 / alerts:F2} ms per alert, peak RSS {storm.PeakRssMb:F0} MB, {storm.Storage?.Total / alerts:F2} storage requests per alert");
            var (limit, composition) = await StormLimitAsync(azurite, s, alerts, workloads).ConfigureAwait(false);
            Console.WriteLine($"    storage limit {limit:F1} s ({limit * 1000 / alerts:F2} ms per alert); drain / limit = {storm.DrainSeconds / limit:F2}");
            steps.Add(new GrowthStep(alerts, workloads, storm with { LimitSeconds = limit, LimitComposition = composition }));
        }
        return new GrowthFigures(steps);
    }
}
