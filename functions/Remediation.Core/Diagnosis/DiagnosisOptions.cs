namespace Remediation.Diagnosis;

/// <summary>Configuration section "Remediation:Diagnosis": budgets and thresholds of the diagnosis.</summary>
public sealed class DiagnosisOptions
{
    public const string SectionName = "Remediation:Diagnosis";

    /// <summary>Wall time (on the TimeProvider) all optional data sources of one diagnosis share.</summary>
    public TimeSpan Budget { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Timeout of one optional source (events, HPA, Istio config reads; each Log Analytics query).</summary>
    public TimeSpan SourceTimeout { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>The rate() window of the Istio golden signals.</summary>
    public TimeSpan MetricsWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How far back the baseline window is (PromQL offset); zero disables the baseline.</summary>
    public TimeSpan BaselineOffset { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A newest revision younger than this counts as a recent change (a rollback candidate).</summary>
    public TimeSpan RecentChange { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A 5xx ratio at or above this is failing; below it a version counts as healthy.</summary>
    public double ErrorRatioThreshold { get; set; } = 0.05;

    /// <summary>A degraded version's 5xx ratio must exceed a healthy sibling's by this factor.</summary>
    public double DegradedFactor { get; set; } = 5;

    /// <summary>A degraded (or saturated) p99 is this many times a healthy sibling's (or the baseline's).</summary>
    public double LatencyFactor { get; set; } = 3;

    /// <summary>An absolute p99 (ms) considered saturated regardless of the baseline.</summary>
    public double LatencyThresholdMs { get; set; } = 1000;

    /// <summary>Versions receiving less traffic than this are not compared.</summary>
    public double MinRequestsPerSecond { get; set; } = 0.05;

    public int MaxEvents { get; set; } = 5;

    public int MaxLogLines { get; set; } = 5;
}
