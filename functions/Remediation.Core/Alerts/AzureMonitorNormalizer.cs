using System.Text.Json;
using static Remediation.Alerts.AlertJson;

namespace Remediation.Alerts;

/// <summary>
/// Parses an Azure Monitor alert in the common alert schema (schemaId "azureMonitorCommonAlertSchema") — as an action
/// group webhook posts it, or as the data of an Event Grid event — and maps it onto a <see cref="NormalizedAlert"/>.
/// Identity: Fingerprint = essentials.alertId, StartsAt = essentials.firedDateTime, so the Fired and the Resolved
/// notification of one alert instance, and every redelivery of either, land on one incident.
/// The workload comes from the labels built out of metric / log search dimensions and Prometheus labels,
/// resolved by <see cref="TargetResolver"/>; an alert naming no workload flows on with a TargetProblem.
/// </summary>
public static class AzureMonitorNormalizer
{
    public const string SchemaId = "azureMonitorCommonAlertSchema";

    /// <summary>Parses a whole webhook body (one alert): one JSON value, nothing but whitespace after it.</summary>
    public static NormalizedAlert Parse(ReadOnlyMemory<byte> body)
    {
        RequireUtf8(body.Span, "$");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw JsonErrorText.ToParseException(ex);
        }
        using (document)
        {
            try
            {
                return Normalize(document.RootElement, "$");
            }
            catch (InvalidOperationException)
            {
                throw AlertJson.UnreadableString(document.RootElement);
            }
        }
    }

    /// <summary>
    /// Normalizes a common-schema alert at <paramref name="path"/>: either the whole payload
    /// ({"schemaId", "data": {"essentials", "alertContext"}}) or just its data section ({"essentials", "alertContext"}).
    /// </summary>
    public static NormalizedAlert Normalize(JsonElement alert, string path)
    {
        var (data, dataPath) = DataSection(alert, path);
        var essentialsPath = $"{dataPath}.essentials";
        var essentials = AzureMonitorEssentials.Read(RequiredObject(data, "essentials", dataPath), essentialsPath);

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var targetId in essentials.TargetIds)
        {
            AzureMonitorAlertContext.AddResourceLabels(labels, targetId);
        }
        var contextPath = $"{dataPath}.alertContext";
        string? generatorUrl = null;
        string? contextName = null;
        if (data.TryGetProperty("alertContext", out var context) && context.ValueKind == JsonValueKind.Object)
        {
            generatorUrl = AzureMonitorAlertContext.Read(context, contextPath, labels, annotations);
            contextName = AzureMonitorAlertContext.NameOf(context);
        }
        else if (context.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null))
        {
            throw new AlertParseException(contextPath, $"expected an object, not {Kind(context)}");
        }
        CopyStrings(data, "customProperties", dataPath, annotations);

        var name = AlertNameOf(essentials.AlertRule ?? contextName ?? DefaultAlertName, essentials.MonitoringService, labels);
        essentials.Describe(name, labels, annotations);
        var (target, problem, problemKind) = ResolveTarget(labels);
        return new NormalizedAlert
        {
            Source = AlertSource.AzureMonitor,
            Name = name,
            Status = essentials.Status,
            Fingerprint = essentials.AlertId,
            StartsAt = essentials.FiredAt,
            EndsAt = essentials.Status == AlertStatus.Resolved ? essentials.ResolvedAt : null,
            Severity = essentials.Severity,
            Labels = labels,
            Annotations = annotations,
            GeneratorUrl = generatorUrl,
            Target = target,
            TargetProblem = problem,
            TargetProblemKind = problemKind,
        };
    }

    /// <summary>The data section ({"essentials", "alertContext"}) of a whole payload, or the value itself when it is one.</summary>
    private static (JsonElement Data, string Path) DataSection(JsonElement alert, string path)
    {
        if (alert.ValueKind != JsonValueKind.Object)
        {
            throw new AlertParseException(path, $"expected an Azure Monitor common alert schema object, not {Kind(alert)}");
        }
        if (alert.TryGetProperty("essentials", out _))
        {
            return (alert, path);
        }
        var schemaId = OptionalString(alert, "schemaId", path);
        if (schemaId is null)
        {
            throw new AlertParseException($"{path}.schemaId", $"required field 'schemaId' is missing; expected \"{SchemaId}\" (enable the common alert schema on the action group)");
        }
        if (schemaId != SchemaId)
        {
            throw new AlertParseException($"{path}.schemaId", $"unsupported schemaId '{schemaId}'; expected \"{SchemaId}\" (enable the common alert schema on the action group)");
        }
        return (RequiredObject(alert, "data", path), $"{path}.data");
    }

    /// <summary>The name of an alert that has no essentials.alertRule and whose alertContext names nothing either.</summary>
    public const string DefaultAlertName = "azure-alert";

    /// <summary>The label that keeps the Azure alert rule name (essentials.alertRule) beside the alert name.</summary>
    public const string AzureAlertRuleLabel = "azure_alert_rule";

    /// <summary>
    /// The alert's name as policy rules know it. A managed Prometheus alert's essentials.alertRule is
    /// "rule group/alert": its name is the Prometheus alertname (alertContext.labels.alertname, else the part of
    /// alertRule after the last '/'), so one policy rule matches it from Alertmanager and from Azure Monitor alike.
    /// Any other alert is named by its Azure rule.
    /// </summary>
    public static string AlertNameOf(string alertRule, string? monitoringService, IReadOnlyDictionary<string, string> labels)
    {
        ArgumentNullException.ThrowIfNull(alertRule);
        ArgumentNullException.ThrowIfNull(labels);
        if (!string.Equals(monitoringService, "Prometheus", StringComparison.OrdinalIgnoreCase))
        {
            return alertRule;
        }
        if (labels.TryGetValue("alertname", out var alertname) && !string.IsNullOrWhiteSpace(alertname))
        {
            return alertname;
        }
        var slash = alertRule.LastIndexOf('/');
        return slash >= 0 && slash < alertRule.Length - 1 ? alertRule[(slash + 1)..] : alertRule;
    }

    /// <summary>Whether a JSON value looks like a common-schema alert (whole payload or its data section).</summary>
    public static bool LooksLikeAlert(JsonElement value) =>
        value.ValueKind == JsonValueKind.Object
        && (value.TryGetProperty("essentials", out _)
            || (value.TryGetProperty("schemaId", out var schema) && schema.ValueKind == JsonValueKind.String && schema.GetString() == SchemaId));

    /// <summary>
    /// Maps a dimension or label name onto the label names <see cref="TargetResolver"/> knows:
    /// "Kubernetes namespace" → namespace, "podName" → pod, "containerName" → container, ...
    /// Unknown names are lower-cased with separators turned into '_'.
    /// </summary>
    public static string NormalizeLabelName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var chars = name.Trim().ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray();
        var normalized = new string(chars);
        return normalized switch
        {
            "kubernetes_namespace" or "k8s_namespace" or "k8s_namespace_name" or "namespace" or "namespacename" or "namespace_name" or "kube_namespace" => "namespace",
            "podname" or "pod_name" or "pod" or "k8s_pod_name" => "pod",
            "containername" or "container_name" or "container" or "k8s_container_name" => "container",
            "controllername" or "controller_name" => "controller",
            "controllerkind" or "controller_kind" => "controller_kind",
            "deployment" or "deploymentname" or "deployment_name" or "k8s_deployment_name" => "deployment",
            "node" or "nodename" or "node_name" or "host" or "computer" => "node",
            "cluster" or "clustername" or "cluster_name" => "cluster",
            _ => normalized,
        };
    }

    /// <summary>
    /// Container insights names the owning controller: with its kind (ControllerKind in KubePodInventory) the resolver
    /// reads the controller/controller_kind pair; a metric alert's bare controllerName dimension has no kind, and it is
    /// read as a Deployment (never guessed from the shape of the name: the cluster side checks it exists).
    /// </summary>
    private static (WorkloadTarget? Target, string? Problem, TargetProblemKind Kind) ResolveTarget(Dictionary<string, string> labels)
    {
        if (labels.TryGetValue("controller", out var controller) && controller.Length > 0
            && !labels.ContainsKey("controller_kind") && !labels.ContainsKey("deployment"))
        {
            labels["deployment"] = controller;
        }
        return TargetResolver.ResolveWithKind(labels);
    }
}
