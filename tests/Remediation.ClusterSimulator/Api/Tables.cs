using System.Text.Json.Nodes;
using Remediation.ClusterSimulator.Json;

namespace Remediation.ClusterSimulator.Api;

/// <summary>Server-side printing (meta.k8s.io/v1 Table) for kubectl get.</summary>
internal static class Tables
{
    private sealed record Column(string Name, string Type, int Priority, Func<JsonObject, JsonNode?> Cell);

    public static JsonObject ToTable(ResourceType rt, JsonObject result, bool isList, DateTimeOffset now)
    {
        var columns = ColumnsFor(rt, now);
        var defs = new JsonArray();
        foreach (var c in columns)
        {
            defs.Add(new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["format"] = c.Name == "Name" ? "name" : "",
                ["description"] = c.Name,
                ["priority"] = c.Priority,
            });
        }

        var items = isList ? (result["items"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [] : [result];
        var rows = new JsonArray();
        foreach (var item in items)
        {
            var cells = new JsonArray();
            foreach (var c in columns)
            {
                cells.Add(c.Cell(item));
            }

            rows.Add(new JsonObject
            {
                ["cells"] = cells,
                ["object"] = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = item["metadata"]?.DeepClone(),
                },
            });
        }

        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = new JsonObject { ["resourceVersion"] = J.Str(result, "metadata", "resourceVersion") ?? "" },
            ["columnDefinitions"] = defs,
            ["rows"] = rows,
        };
    }

    public static string Age(DateTimeOffset now, string? ts)
    {
        var t = J.ParseTime(ts);
        if (t is null)
        {
            return "<unknown>";
        }

        var d = now - t.Value;
        if (d < TimeSpan.Zero)
        {
            d = TimeSpan.Zero;
        }

        if (d.TotalSeconds < 120)
        {
            return $"{(int)d.TotalSeconds}s";
        }

        if (d.TotalMinutes < 10)
        {
            return d.Seconds == 0 ? $"{(int)d.TotalMinutes}m" : $"{(int)d.TotalMinutes}m{d.Seconds}s";
        }

        if (d.TotalHours < 3)
        {
            return $"{(int)d.TotalMinutes}m";
        }

        if (d.TotalHours < 8)
        {
            return d.Minutes == 0 ? $"{(int)d.TotalHours}h" : $"{(int)d.TotalHours}h{d.Minutes}m";
        }

        if (d.TotalHours < 48)
        {
            return $"{(int)d.TotalHours}h";
        }

        return $"{(int)d.TotalDays}d";
    }

    private static List<Column> ColumnsFor(ResourceType rt, DateTimeOffset now)
    {
        var name = new Column("Name", "string", 0, o => J.Name(o));
        var age = new Column("Age", "string", 0, o => Age(now, J.Str(o, "metadata", "creationTimestamp")));
        switch (rt.Plural)
        {
            case "pods":
                return
                [
                    name,
                    new("Ready", "string", 0, o =>
                    {
                        var cs = (J.At(o, "status", "containerStatuses") as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
                        var total = (J.At(o, "spec", "containers") as JsonArray)?.Count ?? 0;
                        return $"{cs.Count(c => J.Bool(c, "ready") == true)}/{total}";
                    }),
                    new("Status", "string", 0, o =>
                    {
                        var cs = (J.At(o, "status", "containerStatuses") as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
                        return cs.Select(c => J.Str(c, "state", "waiting", "reason")).FirstOrDefault(r => r is not null) ?? J.Str(o, "status", "phase") ?? "Pending";
                    }),
                    new("Restarts", "string", 0, o => ((J.At(o, "status", "containerStatuses") as JsonArray)?.Sum(c => J.Long(c, "restartCount") ?? 0) ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    age,
                    new("IP", "string", 1, o => J.Str(o, "status", "podIP") ?? "<none>"),
                    new("Node", "string", 1, o => J.Str(o, "spec", "nodeName") ?? "<none>"),
                ];
            case "deployments":
                return
                [
                    name,
                    new("Ready", "string", 0, o => $"{J.Long(o, "status", "readyReplicas") ?? 0}/{J.Long(o, "spec", "replicas") ?? 1}"),
                    new("Up-to-date", "integer", 0, o => J.Long(o, "status", "updatedReplicas") ?? 0),
                    new("Available", "integer", 0, o => J.Long(o, "status", "availableReplicas") ?? 0),
                    age,
                    new("Containers", "string", 1, o => string.Join(",", (J.At(o, "spec", "template", "spec", "containers") as JsonArray)?.Select(c => J.Str(c, "name")) ?? [])),
                    new("Images", "string", 1, o => string.Join(",", (J.At(o, "spec", "template", "spec", "containers") as JsonArray)?.Select(c => J.Str(c, "image")) ?? [])),
                    new("Selector", "string", 1, o => LabelSelector.ToText(J.At(o, "spec", "selector"))),
                ];
            case "replicasets":
                return
                [
                    name,
                    new("Desired", "integer", 0, o => J.Long(o, "spec", "replicas") ?? 1),
                    new("Current", "integer", 0, o => J.Long(o, "status", "replicas") ?? 0),
                    new("Ready", "integer", 0, o => J.Long(o, "status", "readyReplicas") ?? 0),
                    age,
                ];
            case "services":
                return
                [
                    name,
                    new("Type", "string", 0, o => J.Str(o, "spec", "type") ?? "ClusterIP"),
                    new("Cluster-IP", "string", 0, o => J.Str(o, "spec", "clusterIP") ?? "<none>"),
                    new("External-IP", "string", 0, _ => "<none>"),
                    new("Port(s)", "string", 0, o => string.Join(",", (J.At(o, "spec", "ports") as JsonArray)?.Select(p => $"{J.Long(p, "port")}/{J.Str(p, "protocol") ?? "TCP"}") ?? [])),
                    age,
                ];
            case "events":
                return
                [
                    new("Last Seen", "string", 0, o => Age(now, J.Str(o, "lastTimestamp"))),
                    new("Type", "string", 0, o => J.Str(o, "type")),
                    new("Reason", "string", 0, o => J.Str(o, "reason")),
                    new("Object", "string", 0, o => $"{J.Str(o, "involvedObject", "kind")?.ToLowerInvariant()}/{J.Str(o, "involvedObject", "name")}"),
                    new("Message", "string", 0, o => J.Str(o, "message")),
                ];
            case "horizontalpodautoscalers":
                return
                [
                    name,
                    new("Reference", "string", 0, o => $"{J.Str(o, "spec", "scaleTargetRef", "kind")}/{J.Str(o, "spec", "scaleTargetRef", "name")}"),
                    new("MinPods", "integer", 0, o => J.Long(o, "spec", "minReplicas") ?? 1),
                    new("MaxPods", "integer", 0, o => J.Long(o, "spec", "maxReplicas") ?? 0),
                    new("Replicas", "integer", 0, o => J.Long(o, "status", "currentReplicas") ?? 0),
                    age,
                ];
            case "namespaces":
                return [name, new("Status", "string", 0, o => J.Str(o, "status", "phase") ?? "Active"), age];
            default:
                return [name, age];
        }
    }
}
