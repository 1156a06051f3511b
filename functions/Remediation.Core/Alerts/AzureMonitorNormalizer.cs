using System.Globalization;
using System.Text.Json;

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

    private static readonly string[] Severities = ["Sev0", "Sev1", "Sev2", "Sev3", "Sev4"];
    private static readonly string[] SignalTypes = ["Metric", "Log", "Activity Log"];

    /// <summary>Parses a whole webhook body (one alert).</summary>
    public static NormalizedAlert Parse(ReadOnlySpan<byte> body)
    {
        RequireUtf8(body, "$");
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            document = JsonDocument.ParseValue(ref reader);
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
            catch (InvalidOperationException ex)
            {
                throw UnreadableString(ex);
            }
        }
    }

    /// <summary>JsonElement.GetString throws InvalidOperationException on an escaped lone surrogate ("\ud800"): a 400, not a 500.</summary>
    internal static AlertParseException UnreadableString(InvalidOperationException ex) =>
        new("$", $"a JSON string cannot be read as text: {AlertmanagerNormalizer.FirstSentence(ex.Message)}");

    /// <summary>
    /// JsonDocument checks UTF-8 only when a string is read (InvalidOperationException, a 500): check the whole body first.
    /// </summary>
    internal static void RequireUtf8(ReadOnlySpan<byte> body, string field)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            throw new AlertParseException(field, "the body is not valid UTF-8 text; expected a JSON payload encoded as UTF-8");
        }
    }

    /// <summary>
    /// Normalizes a common-schema alert at <paramref name="path"/>: either the whole payload
    /// ({"schemaId", "data": {"essentials", "alertContext"}}) or just its data section ({"essentials", "alertContext"}).
    /// </summary>
    public static NormalizedAlert Normalize(JsonElement alert, string path)
    {
        if (alert.ValueKind != JsonValueKind.Object)
        {
            throw new AlertParseException(path, $"expected an Azure Monitor common alert schema object, not {Kind(alert)}");
        }
        var dataPath = path;
        var data = alert;
        if (!alert.TryGetProperty("essentials", out _))
        {
            var schemaId = OptionalString(alert, "schemaId", path);
            if (schemaId is null)
            {
                throw new AlertParseException($"{path}.schemaId", $"required field 'schemaId' is missing; expected \"{SchemaId}\" (enable the common alert schema on the action group)");
            }
            if (schemaId != SchemaId)
            {
                throw new AlertParseException($"{path}.schemaId", $"unsupported schemaId '{schemaId}'; expected \"{SchemaId}\" (enable the common alert schema on the action group)");
            }
            dataPath = $"{path}.data";
            data = RequiredObject(alert, "data", path);
        }
        var essentialsPath = $"{dataPath}.essentials";
        var essentials = RequiredObject(data, "essentials", dataPath);
        var alertId = RequiredString(essentials, "alertId", essentialsPath);
        // Cost Management (budget) alerts send null alertRule, severity and signalType (Microsoft's own samples): a
        // missing or null essential takes its default; a present one must be one the schema knows.
        var alertRule = NonEmpty(OptionalString(essentials, "alertRule", essentialsPath));
        var severity = NonEmpty(OptionalString(essentials, "severity", essentialsPath));
        if (severity is not null && !Severities.Contains(severity, StringComparer.Ordinal))
        {
            throw new AlertParseException($"{essentialsPath}.severity", $"unknown severity '{severity}'; expected Sev0, Sev1, Sev2, Sev3 or Sev4");
        }
        var signalType = NonEmpty(OptionalString(essentials, "signalType", essentialsPath));
        if (signalType is not null && !SignalTypes.Contains(signalType, StringComparer.Ordinal))
        {
            throw new AlertParseException($"{essentialsPath}.signalType", $"unknown signalType '{signalType}'; expected \"Metric\", \"Log\" or \"Activity Log\"");
        }
        var status = NonEmpty(OptionalString(essentials, "monitorCondition", essentialsPath)) switch
        {
            null or "Fired" => AlertStatus.Firing,
            "Resolved" => AlertStatus.Resolved,
            var other => throw new AlertParseException($"{essentialsPath}.monitorCondition", $"unknown monitorCondition '{other}'; expected \"Fired\" or \"Resolved\""),
        };
        var monitoringService = OptionalString(essentials, "monitoringService", essentialsPath);
        var firedAt = RequiredTime(essentials, "firedDateTime", essentialsPath);
        var resolvedAt = OptionalTime(essentials, "resolvedDateTime", essentialsPath);
        var targetIds = OptionalStrings(essentials, "alertTargetIDs", essentialsPath);
        var configurationItems = OptionalStrings(essentials, "configurationItems", essentialsPath);

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        string? generatorUrl = null;
        foreach (var targetId in targetIds)
        {
            AddResourceLabels(labels, targetId);
        }

        var contextPath = $"{dataPath}.alertContext";
        string? contextName = null;
        if (data.TryGetProperty("alertContext", out var context) && context.ValueKind == JsonValueKind.Object)
        {
            generatorUrl = ReadAlertContext(context, contextPath, labels, annotations);
            contextName = NameFromContext(context);
        }
        else if (context.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null))
        {
            throw new AlertParseException(contextPath, $"expected an object, not {Kind(context)}");
        }
        if (data.TryGetProperty("customProperties", out var custom) && custom.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in custom.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.String)
                {
                    annotations[property.Name] = property.Value.GetString()!;
                }
            }
        }

        var name = AlertNameOf(alertRule ?? contextName ?? DefaultAlertName, monitoringService, labels);
        labels["alertname"] = name;
        if (alertRule is not null)
        {
            labels[AzureAlertRuleLabel] = alertRule;
        }
        if (severity is not null)
        {
            labels["severity"] = severity;
        }
        annotations["alertId"] = alertId;
        if (signalType is not null)
        {
            annotations["signalType"] = signalType;
        }
        if (monitoringService is not null)
        {
            annotations["monitoringService"] = monitoringService;
        }
        if (OptionalString(essentials, "description", essentialsPath) is { Length: > 0 } description)
        {
            annotations.TryAdd("description", description);
        }
        if (targetIds.Count > 0)
        {
            annotations["alertTargetIDs"] = string.Join(",", targetIds);
        }
        if (configurationItems.Count > 0)
        {
            annotations["configurationItems"] = string.Join(",", configurationItems);
        }

        var (target, problem, problemKind) = ResolveTarget(labels);
        return new NormalizedAlert
        {
            Source = AlertSource.AzureMonitor,
            Name = name,
            Status = status,
            Fingerprint = alertId,
            StartsAt = firedAt,
            EndsAt = status == AlertStatus.Resolved ? resolvedAt : null,
            Severity = severity,
            Labels = labels,
            Annotations = annotations,
            GeneratorUrl = generatorUrl,
            Target = target,
            TargetProblem = problem,
            TargetProblemKind = problemKind,
        };
    }

    /// <summary>The name of an alert that has no essentials.alertRule and whose alertContext names nothing either.</summary>
    public const string DefaultAlertName = "azure-alert";

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>
    /// A name for an alert without essentials.alertRule: a budget alert's alertContext.AlertData.BudgetName, else its
    /// alertContext.AlertCategory ("budgets"); null when the context names nothing.
    /// </summary>
    private static string? NameFromContext(JsonElement context)
    {
        if (context.TryGetProperty("AlertData", out var data) && data.ValueKind == JsonValueKind.Object
            && data.TryGetProperty("BudgetName", out var budget) && budget.ValueKind == JsonValueKind.String
            && NonEmpty(budget.GetString()) is { } budgetName)
        {
            return budgetName;
        }
        return context.TryGetProperty("AlertCategory", out var category) && category.ValueKind == JsonValueKind.String
            ? NonEmpty(category.GetString())
            : null;
    }

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

    /// <summary>Reads alertContext into labels/annotations; returns a link to the search results when there is one.</summary>
    private static string? ReadAlertContext(JsonElement context, string path, Dictionary<string, string> labels, Dictionary<string, string> annotations)
    {
        string? link = null;
        // Metric alerts and log search alerts V2: condition.allOf[].dimensions[{name, value}].
        if (context.TryGetProperty("condition", out var condition) && condition.ValueKind == JsonValueKind.Object
            && condition.TryGetProperty("allOf", out var allOf))
        {
            if (allOf.ValueKind != JsonValueKind.Array)
            {
                throw new AlertParseException($"{path}.condition.allOf", $"expected an array of conditions, not {Kind(allOf)}");
            }
            var i = 0;
            foreach (var criterion in allOf.EnumerateArray())
            {
                var criterionPath = $"{path}.condition.allOf[{i++}]";
                if (criterion.ValueKind != JsonValueKind.Object)
                {
                    throw new AlertParseException(criterionPath, $"expected an object, not {Kind(criterion)}");
                }
                AddDimensions(criterion, "dimensions", criterionPath, labels);
                CopyString(criterion, "metricName", annotations, "metricName");
                CopyString(criterion, "searchQuery", annotations, "searchQuery");
                if (criterion.TryGetProperty("metricValue", out var value) && value.ValueKind == JsonValueKind.Number)
                {
                    annotations["metricValue"] = value.GetRawText();
                }
                link ??= OptionalString(criterion, "linkToFilteredSearchResultsUI", criterionPath) ?? OptionalString(criterion, "linkToSearchResultsUI", criterionPath);
            }
        }
        // Log search alerts V1 (Log Analytics / Application Insights): Dimensions[{name, value}], SearchQuery.
        AddDimensions(context, "Dimensions", path, labels);
        CopyString(context, "SearchQuery", annotations, "searchQuery");
        link ??= OptionalString(context, "LinkToFilteredSearchResultsUI", path) ?? OptionalString(context, "LinkToSearchResults", path);

        // Prometheus rule group alerts: labels, annotations, expression, interval, ruleGroup.
        if (context.TryGetProperty("labels", out var promLabels))
        {
            if (promLabels.ValueKind != JsonValueKind.Object)
            {
                throw new AlertParseException($"{path}.labels", $"expected an object of label names to values, not {Kind(promLabels)}");
            }
            foreach (var label in promLabels.EnumerateObject())
            {
                if (label.Value.ValueKind != JsonValueKind.String)
                {
                    throw new AlertParseException($"{path}.labels.{label.Name}", $"label values must be strings, not {Kind(label.Value)}");
                }
                // Prometheus label names are already what TargetResolver knows (namespace, deployment, pod, ...).
                labels[label.Name] = label.Value.GetString()!;
            }
        }
        if (context.TryGetProperty("annotations", out var promAnnotations) && promAnnotations.ValueKind == JsonValueKind.Object)
        {
            foreach (var annotation in promAnnotations.EnumerateObject())
            {
                if (annotation.Value.ValueKind == JsonValueKind.String)
                {
                    annotations[annotation.Name] = annotation.Value.GetString()!;
                }
            }
        }
        CopyString(context, "expression", annotations, "expression");
        CopyString(context, "interval", annotations, "interval");
        CopyString(context, "for", annotations, "for");
        CopyString(context, "ruleGroup", annotations, "ruleGroup");

        // Activity log alerts: the affected resource is in authorization.scope.
        if (context.TryGetProperty("authorization", out var authorization) && authorization.ValueKind == JsonValueKind.Object
            && authorization.TryGetProperty("scope", out var scope) && scope.ValueKind == JsonValueKind.String)
        {
            AddResourceLabels(labels, scope.GetString()!);
        }
        CopyString(context, "operationName", annotations, "operationName");
        return link;
    }

    private static void AddDimensions(JsonElement parent, string property, string path, Dictionary<string, string> labels)
    {
        if (!parent.TryGetProperty(property, out var dimensions) || dimensions.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        if (dimensions.ValueKind != JsonValueKind.Array)
        {
            throw new AlertParseException($"{path}.{property}", $"expected an array of {{name, value}}, not {Kind(dimensions)}");
        }
        var i = 0;
        foreach (var dimension in dimensions.EnumerateArray())
        {
            var dimensionPath = $"{path}.{property}[{i++}]";
            if (dimension.ValueKind != JsonValueKind.Object)
            {
                throw new AlertParseException(dimensionPath, $"expected {{name, value}}, not {Kind(dimension)}");
            }
            var name = RequiredString(dimension, "name", dimensionPath);
            if (!dimension.TryGetProperty("value", out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
            {
                throw new AlertParseException($"{dimensionPath}.value", $"required field 'value' of dimension '{name}' is missing");
            }
            var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
            labels[NormalizeLabelName(name)] = text;
        }
    }

    /// <summary>ARM ids: an AKS cluster target gives cluster, resource_group and subscription labels.</summary>
    private static void AddResourceLabels(Dictionary<string, string> labels, string resourceId)
    {
        var parts = resourceId.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i + 1 < parts.Length; i += 2)
        {
            switch (parts[i].ToLowerInvariant())
            {
                case "subscriptions": labels.TryAdd("subscription", parts[i + 1]); break;
                case "resourcegroups": labels.TryAdd("resource_group", parts[i + 1]); break;
                case "managedclusters": labels.TryAdd("cluster", parts[i + 1]); break;
            }
        }
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

    private static void CopyString(JsonElement parent, string property, Dictionary<string, string> into, string key)
    {
        if (parent.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text)
        {
            into.TryAdd(key, text);
        }
    }

    private static JsonElement RequiredObject(JsonElement parent, string property, string path)
    {
        if (!parent.TryGetProperty(property, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            throw new AlertParseException($"{path}.{property}", $"required field '{property}' is missing; expected an object");
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new AlertParseException($"{path}.{property}", $"'{property}' must be an object, not {Kind(value)}");
        }
        return value;
    }

    private static string RequiredString(JsonElement parent, string property, string path) =>
        OptionalString(parent, property, path) is { Length: > 0 } value
            ? value
            : throw new AlertParseException($"{path}.{property}", $"required field '{property}' is missing or empty");

    private static string? OptionalString(JsonElement parent, string property, string path)
    {
        if (!parent.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new AlertParseException($"{path}.{property}", $"'{property}' must be a string, not {Kind(value)}");
    }

    private static List<string> OptionalStrings(JsonElement parent, string property, string path)
    {
        var result = new List<string>();
        if (!parent.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return result;
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new AlertParseException($"{path}.{property}", $"'{property}' must be an array of strings, not {Kind(value)}");
        }
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw new AlertParseException($"{path}.{property}[{i}]", $"expected a string, not {Kind(item)}");
            }
            result.Add(item.GetString()!);
            i++;
        }
        return result;
    }

    private static DateTimeOffset RequiredTime(JsonElement parent, string property, string path) =>
        OptionalTime(parent, property, path)
            ?? throw new AlertParseException($"{path}.{property}", $"required field '{property}' is missing; expected an ISO 8601 UTC time");

    private static DateTimeOffset? OptionalTime(JsonElement parent, string property, string path)
    {
        var text = OptionalString(parent, property, path);
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new AlertParseException($"{path}.{property}", $"'{property}' is not an ISO 8601 time: '{text}'");
    }

    internal static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
