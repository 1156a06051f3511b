using System.Globalization;
using Remediation.Diagnosis;

namespace Remediation.Metrics;

/// <summary>KubePodInventory and ContainerLogV2 over <see cref="LogAnalyticsClient"/>.</summary>
public sealed class LogAnalyticsContainerInsights(LogAnalyticsClient client) : IContainerInsights
{
    public static string PodInventoryQuery(string @namespace, string workload) =>
        $"""
        KubePodInventory
        | where Namespace == {LogAnalyticsClient.Literal(@namespace)} and (ControllerName startswith {LogAnalyticsClient.Literal(workload + "-")} or Name startswith {LogAnalyticsClient.Literal(workload + "-")})
        | summarize arg_max(TimeGenerated, *) by Name, ContainerName
        | project TimeGenerated, Name, ContainerName, PodStatus, ContainerStatus, ContainerStatusReason, ContainerRestartCount, ControllerName
        | order by ContainerRestartCount desc
        | take 50
        """;

    public static string ErrorLinesQuery(string @namespace, IReadOnlyCollection<string> pods, int max) =>
        $"""
        ContainerLogV2
        | where PodNamespace == {LogAnalyticsClient.Literal(@namespace)} and PodName in ({string.Join(", ", pods.Select(LogAnalyticsClient.Literal))})
        | extend Message = tostring(LogMessage)
        | where LogLevel in~ ("error", "critical", "fatal") or Message has_any ("error", "exception", "fatal", "panic", "Traceback")
        | top {max.ToString(CultureInfo.InvariantCulture)} by TimeGenerated desc
        | project TimeGenerated, PodName, ContainerName, Message
        """;

    public async Task<IReadOnlyList<PodInventoryRow>> PodInventoryAsync(string @namespace, string workload, CancellationToken cancellationToken = default)
    {
        var result = await client.QueryAsync(PodInventoryQuery(@namespace, workload), client.Options.Lookback, cancellationToken).ConfigureAwait(false);
        return result.Table.Rows.Select(r => new PodInventoryRow(
            r.GetDateTimeOffset("TimeGenerated") ?? DateTimeOffset.MinValue, r.GetString("Name") ?? "", ContainerName(r.GetString("ContainerName")),
            r.GetString("PodStatus"), r.GetString("ContainerStatus"), r.GetString("ContainerStatusReason"),
            r.GetInt64("ContainerRestartCount") ?? 0, r.GetString("ControllerName"))).ToList();
    }

    /// <summary>KubePodInventory's ContainerName is "{podUid}/{container}".</summary>
    private static string? ContainerName(string? value) => value is null ? null : value[(value.LastIndexOf('/') + 1)..];

    public async Task<IReadOnlyList<ContainerLogLine>> ErrorLinesAsync(string @namespace, IReadOnlyCollection<string> pods, int max, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pods);
        if (pods.Count == 0)
        {
            return [];
        }
        var result = await client.QueryAsync(ErrorLinesQuery(@namespace, pods, max), client.Options.Lookback, cancellationToken).ConfigureAwait(false);
        return result.Table.Rows.Select(r => new ContainerLogLine(
            r.GetDateTimeOffset("TimeGenerated") ?? DateTimeOffset.MinValue, r.GetString("PodName") ?? "", r.GetString("ContainerName"),
            r.GetString("Message") ?? "")).ToList();
    }
}
