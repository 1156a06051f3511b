using System.Text.Json;
using static Remediation.Alerts.AlertJson;

namespace Remediation.Alerts;

/// <summary>
/// The per-signal part of an Azure Monitor common-schema alert (data.alertContext), whose shape depends on the signal:
/// metric and log search V2 conditions, log search V1 dimensions, Prometheus rule labels, activity log scopes. Each
/// adds the labels the workload is resolved from and annotations for the incident.
/// </summary>
internal static class AzureMonitorAlertContext
{
    /// <summary>Reads alertContext into labels/annotations; returns a link to the search results when there is one.</summary>
    public static string? Read(JsonElement context, string path, Dictionary<string, string> labels, Dictionary<string, string> annotations)
    {
        var link = ReadConditions(context, path, labels, annotations);
        // Log search alerts V1 (Log Analytics / Application Insights): Dimensions[{name, value}], SearchQuery.
        AddDimensions(context, "Dimensions", path, labels);
        CopyString(context, "SearchQuery", annotations, "searchQuery");
        link ??= OptionalString(context, "LinkToFilteredSearchResultsUI", path) ?? OptionalString(context, "LinkToSearchResults", path);
        ReadPrometheusRule(context, path, labels, annotations);
        // Activity log alerts: the affected resource is in authorization.scope.
        if (context.TryGetProperty("authorization", out var authorization) && authorization.ValueKind == JsonValueKind.Object
            && authorization.TryGetProperty("scope", out var scope) && scope.ValueKind == JsonValueKind.String)
        {
            AddResourceLabels(labels, scope.GetString()!);
        }
        CopyString(context, "operationName", annotations, "operationName");
        return link;
    }

    /// <summary>
    /// A name for an alert without essentials.alertRule: a budget alert's alertContext.AlertData.BudgetName, else its
    /// alertContext.AlertCategory ("budgets"); null when the context names nothing.
    /// </summary>
    public static string? NameOf(JsonElement context)
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

    /// <summary>ARM ids: an AKS cluster target gives cluster, resource_group and subscription labels.</summary>
    public static void AddResourceLabels(Dictionary<string, string> labels, string resourceId)
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

    /// <summary>Metric alerts and log search alerts V2: condition.allOf[].dimensions[{name, value}].</summary>
    private static string? ReadConditions(JsonElement context, string path, Dictionary<string, string> labels, Dictionary<string, string> annotations)
    {
        if (!context.TryGetProperty("condition", out var condition) || condition.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (condition.ValueKind != JsonValueKind.Object)
        {
            // Its dimensions name the workload: skipped, the alert would read as naming none.
            throw new AlertParseException($"{path}.condition", $"expected an object with the conditions in 'allOf', not {Kind(condition)}");
        }
        if (!condition.TryGetProperty("allOf", out var allOf))
        {
            return null;
        }
        if (allOf.ValueKind != JsonValueKind.Array)
        {
            throw new AlertParseException($"{path}.condition.allOf", $"expected an array of conditions, not {Kind(allOf)}");
        }
        string? link = null;
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
        return link;
    }

    /// <summary>Prometheus rule group alerts: labels, annotations, expression, interval, ruleGroup.</summary>
    private static void ReadPrometheusRule(JsonElement context, string path, Dictionary<string, string> labels, Dictionary<string, string> annotations)
    {
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
        CopyStrings(context, "annotations", path, annotations);
        CopyString(context, "expression", annotations, "expression");
        CopyString(context, "interval", annotations, "interval");
        CopyString(context, "for", annotations, "for");
        CopyString(context, "ruleGroup", annotations, "ruleGroup");
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
            labels[AzureMonitorNormalizer.NormalizeLabelName(name)] = text;
        }
    }
}
