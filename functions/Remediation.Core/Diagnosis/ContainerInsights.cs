namespace Remediation.Diagnosis;

/// <summary>The latest KubePodInventory row of one container.</summary>
public sealed record PodInventoryRow(
    DateTimeOffset TimeGenerated, string Pod, string? Container, string? PodStatus, string? ContainerStatus, string? ContainerStatusReason,
    long RestartCount, string? ControllerName);

/// <summary>One ContainerLogV2 line.</summary>
public sealed record ContainerLogLine(DateTimeOffset TimeGenerated, string Pod, string? Container, string Message);

/// <summary>Container insights evidence (Log Analytics) for a workload's pods: the port diagnosis reads; the Log Analytics adapter lives in Metrics.</summary>
public interface IContainerInsights
{
    Task<IReadOnlyList<PodInventoryRow>> PodInventoryAsync(string @namespace, string workload, CancellationToken cancellationToken = default);

    /// <summary>The last error lines of the given pods, newest first.</summary>
    Task<IReadOnlyList<ContainerLogLine>> ErrorLinesAsync(string @namespace, IReadOnlyCollection<string> pods, int max, CancellationToken cancellationToken = default);
}
