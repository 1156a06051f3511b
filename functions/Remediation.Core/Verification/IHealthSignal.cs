namespace Remediation.Verification;

/// <summary>The request error ratio of a workload (e.g. Istio 5xx share from Prometheus); null when not available.</summary>
public interface IHealthSignal
{
    Task<double?> ErrorRatioAsync(string @namespace, string workload, TimeSpan window, CancellationToken cancellationToken = default);

    /// <summary>The error ratio of all traffic to a service (every version together); null when not available.</summary>
    Task<double?> ServiceErrorRatioAsync(string @namespace, string service, TimeSpan window, CancellationToken cancellationToken = default);
}

/// <summary>Used when no metrics source is configured: verification then rests on the rollout state alone.</summary>
public sealed class NoHealthSignal : IHealthSignal
{
    public Task<double?> ErrorRatioAsync(string @namespace, string workload, TimeSpan window, CancellationToken cancellationToken = default) =>
        Task.FromResult<double?>(null);

    public Task<double?> ServiceErrorRatioAsync(string @namespace, string service, TimeSpan window, CancellationToken cancellationToken = default) =>
        Task.FromResult<double?>(null);
}
