namespace Remediation.Verification;

/// <summary>
/// One reading of a request error ratio. Three answers, kept apart: a ratio (<see cref="Ratio"/>); no ratio because there
/// is nothing to measure (no requests in the window, or no metrics source configured: <see cref="NoRatio"/> says which);
/// or the source could not be read (<see cref="Unreadable"/> says why) — which is unknown, never healthy.
/// </summary>
public sealed record HealthReading(double? Ratio, string? Unreadable = null, string? NoRatio = null)
{
    /// <summary>The source answered: zero requests in the window, so there is no ratio.</summary>
    public static HealthReading NoTraffic { get; } = new(null, NoRatio: "no requests in the window");

    /// <summary>No metrics source is configured: verification rests on the rollout state alone.</summary>
    public static HealthReading NotConfigured { get; } = new(null, NoRatio: "no metrics source configured");

    public static HealthReading Measured(double ratio) => new(ratio);

    /// <summary>The source failed (timeout, connection refused, HTTP or query error, access refused).</summary>
    public static HealthReading CouldNotRead(string why) => new(null, why);
}

/// <summary>
/// The request error ratio of a workload (e.g. Istio 5xx share from Prometheus). A source that fails reports
/// <see cref="HealthReading.CouldNotRead"/> rather than no traffic; the verifier treats an exception the same way.
/// </summary>
public interface IHealthSignal
{
    Task<HealthReading> ErrorRatioAsync(string @namespace, string workload, TimeSpan window, CancellationToken cancellationToken = default);

    /// <summary>The error ratio of all traffic to a service (every version together).</summary>
    Task<HealthReading> ServiceErrorRatioAsync(string @namespace, string service, TimeSpan window, CancellationToken cancellationToken = default);
}

/// <summary>Used when no metrics source is configured: verification then rests on the rollout state alone.</summary>
public sealed class NoHealthSignal : IHealthSignal
{
    public Task<HealthReading> ErrorRatioAsync(string @namespace, string workload, TimeSpan window, CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthReading.NotConfigured);

    public Task<HealthReading> ServiceErrorRatioAsync(string @namespace, string service, TimeSpan window, CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthReading.NotConfigured);
}
