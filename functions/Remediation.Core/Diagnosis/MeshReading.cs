namespace Remediation.Diagnosis;

/// <summary>
/// The mesh signals of one diagnosis, now and at the baseline (null when not read). <see cref="MetricsUnavailable"/> says
/// why they are missing when a configured source could not be read: conclusions resting on metrics cannot be drawn then.
/// </summary>
public sealed record MeshReading(bool Configured, IReadOnlyList<VersionSignals>? Current, IReadOnlyList<VersionSignals>? Baseline, string? MetricsUnavailable)
{
    /// <summary>The signals of one workload now (its versions combined); null without any.</summary>
    public VersionSignals? Now(string workload) => Of(Current, workload);

    /// <summary>The signals of one workload at the baseline (its versions combined); null without any.</summary>
    public VersionSignals? Before(string workload) => Of(Baseline, workload);

    /// <summary>Signals per version (workloads of the same version combined).</summary>
    public IReadOnlyList<VersionSignals> ByVersion() =>
        Current is null ? [] : Current.GroupBy(s => s.Version, StringComparer.Ordinal)
            .Select(g => Combine(string.Join("+", g.Select(s => s.Workload).Distinct(StringComparer.Ordinal)), g.Key, g.ToList())).ToList();

    private static VersionSignals? Of(IReadOnlyList<VersionSignals>? signals, string workload) =>
        signals?.Where(s => s.Workload == workload).ToList() is { Count: > 0 } parts ? Combine(workload, parts[0].Version, parts) : null;

    private static VersionSignals Combine(string workload, string version, IReadOnlyList<VersionSignals> parts)
    {
        var rps = parts.Sum(p => p.RequestsPerSecond);
        var ratio = rps > 0 ? parts.Sum(p => p.ErrorRatio * p.RequestsPerSecond) / rps : 0;
        var p99 = parts.Where(p => p.P99Ms is not null).Select(p => p.P99Ms).DefaultIfEmpty(null).Max();
        return new VersionSignals(workload, version, rps, ratio, p99);
    }
}
