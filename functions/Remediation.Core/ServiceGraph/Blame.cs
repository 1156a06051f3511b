using System.Globalization;

namespace Remediation.ServiceGraph;

/// <summary>What the alert is about: failed requests or slow ones.</summary>
public enum Symptom
{
    Errors,
    Latency,
}

/// <summary>Whose fault the alerted workload's symptom is.</summary>
public enum BlameVerdict
{
    /// <summary>The alerted workload itself is the culprit: its callees are healthy or do not explain it.</summary>
    OwnFault,

    /// <summary>A callee down the chain is the culprit; the alerted workload is its victim.</summary>
    Callee,

    /// <summary>No verdict (no readable telemetry, too little traffic, client errors only, a partial failure): see Suspected.</summary>
    Unknown,

    /// <summary>The graph shows no such symptom on the alerted workload.</summary>
    NoProblem,
}

/// <summary>
/// Blame tuning: thresholds for health; <see cref="Tolerance"/> how much of a caller's failures (or p99) its calls to one
/// callee must account for (1 - tolerance); <see cref="PartialFactor"/> how close every caller's figure on the callee must
/// come to the explaining edge's for the callee to fail "for all of its callers".
/// </summary>
public sealed record BlameOptions(HealthThresholds? Thresholds = null, double Tolerance = 0.2, double PartialFactor = 0.5)
{
    public static BlameOptions Default { get; } = new();

    public HealthThresholds Health => Thresholds ?? HealthThresholds.Kiali;
}

/// <summary>The verdict with its evidence: culprit, the chain from the alerted workload to it, and the victims.</summary>
public sealed record Blame(
    BlameVerdict Verdict,
    Symptom Symptom,
    WorkloadId Alerted,
    WorkloadId? Culprit,
    WorkloadId? Suspected,
    IReadOnlyList<WorkloadId> Chain,
    IReadOnlyList<WorkloadId> Victims,
    IReadOnlyList<string> Evidence)
{
    public string Summary => Verdict switch
    {
        BlameVerdict.Callee => $"{Alerted} is a victim of {Culprit} ({string.Join(" -> ", Chain)})",
        BlameVerdict.OwnFault => $"{Alerted} is its own culprit: its callees do not explain its {Word(Symptom)}",
        BlameVerdict.NoProblem => $"{Alerted} shows no {Word(Symptom)} in the mesh telemetry",
        _ => $"unknown, suspected {Suspected ?? Alerted}",
    };

    private static string Word(Symptom symptom) => symptom == Symptom.Errors ? "errors" : "latency";

    internal static string Percent(double ratio) => (ratio * 100).ToString(ratio is > 0 and < 0.01 ? "0.##" : "0.#", CultureInfo.InvariantCulture) + " %";

    internal static string Rate(double rps) => rps.ToString(rps < 1 ? "0.###" : "0.#", CultureInfo.InvariantCulture) + " req/s";

    internal static string Millis(double? ms) => ms is { } v ? v.ToString("0", CultureInfo.InvariantCulture) + " ms" : "n/a";
}
