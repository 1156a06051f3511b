using System.Globalization;

namespace Remediation.Diagnosis;

/// <summary>Golden signals of one destination workload and version (what Kiali shows as its health).</summary>
public sealed record VersionSignals(string Workload, string Version, double RequestsPerSecond, double ErrorRatio, double? P99Ms)
{
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Workload} (version {Version}): {RequestsPerSecond:0.##} req/s, 5xx {Percent(ErrorRatio)}, p99 {(P99Ms is { } p ? p.ToString("0.#", CultureInfo.InvariantCulture) + " ms" : "n/a")}");

    public Dictionary<string, string> Data(string prefix = "") => new()
    {
        [prefix + "workload"] = Workload,
        [prefix + "version"] = Version,
        [prefix + "rps"] = RequestsPerSecond.ToString("0.###", CultureInfo.InvariantCulture),
        [prefix + "errorRatio"] = ErrorRatio.ToString("0.#####", CultureInfo.InvariantCulture),
        [prefix + "p99Ms"] = P99Ms?.ToString("0.#", CultureInfo.InvariantCulture) ?? "",
    };

    public static string Percent(double ratio) => ratio.ToString(ratio < 0.01 ? "0.##%" : "0.#%", CultureInfo.InvariantCulture);
}

/// <summary>Service-mesh telemetry per destination workload/version.</summary>
public interface IMeshSignals
{
    /// <summary>
    /// Request rate, 5xx ratio and p99 latency per (destination_workload, destination_version) of the given services in a namespace,
    /// over <paramref name="window"/>, optionally <paramref name="offset"/> in the past (a baseline).
    /// </summary>
    Task<IReadOnlyList<VersionSignals>> VersionSignalsAsync(string @namespace, IReadOnlyCollection<string> services, TimeSpan window, TimeSpan? offset = null,
        CancellationToken cancellationToken = default);

    /// <summary>The 5xx ratio of one destination workload over a window; null without traffic.</summary>
    Task<double?> WorkloadErrorRatioAsync(string @namespace, string workload, TimeSpan window, CancellationToken cancellationToken = default);
}
