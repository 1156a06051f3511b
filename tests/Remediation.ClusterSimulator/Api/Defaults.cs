using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Remediation.ClusterSimulator.Json;

namespace Remediation.ClusterSimulator.Api;

/// <summary>API defaulting and validation for the fields the simulator cares about.</summary>
internal static partial class Defaults
{
    public static void Apply(ResourceType rt, JsonObject obj, Func<int> nextServiceIp)
    {
        switch (rt.Plural)
        {
            case "deployments":
                Deployment(obj);
                break;
            case "replicasets":
                var rsSpec = J.Obj(obj, "spec");
                rsSpec["replicas"] ??= 1;
                TemplateMetadata(rsSpec);
                if (J.At(rsSpec, "template", "spec") is JsonObject rsPod)
                {
                    PodSpec(rsPod);
                }

                break;
            case "pods":
                PodSpec(J.Obj(obj, "spec"));
                break;
            case "services":
                var svc = J.Obj(obj, "spec");
                svc["type"] ??= "ClusterIP";
                svc["sessionAffinity"] ??= "None";
                if (svc["clusterIP"] is null && J.Str(svc, "type") != "ExternalName")
                {
                    var n = nextServiceIp();
                    var ip = $"10.96.{n / 250}.{(n % 250) + 10}";
                    svc["clusterIP"] = ip;
                    svc["clusterIPs"] = new JsonArray(ip);
                }

                svc["ipFamilies"] ??= new JsonArray("IPv4");
                svc["ipFamilyPolicy"] ??= "SingleStack";
                svc["internalTrafficPolicy"] ??= "Cluster";
                if (svc["ports"] is JsonArray ports)
                {
                    foreach (var p in ports.OfType<JsonObject>())
                    {
                        p["protocol"] ??= "TCP";
                        p["targetPort"] ??= p["port"]?.DeepClone();
                    }
                }

                break;
            case "namespaces":
                J.Obj(J.Meta(obj), "labels")["kubernetes.io/metadata.name"] = J.Name(obj);
                J.Obj(obj, "spec")["finalizers"] ??= new JsonArray("kubernetes");
                J.Obj(obj, "status")["phase"] = "Active";
                break;
            default:
                break;
        }
    }

    public static void Deployment(JsonObject obj)
    {
        var spec = J.Obj(obj, "spec");
        spec["replicas"] ??= 1;
        spec["revisionHistoryLimit"] ??= 10;
        spec["progressDeadlineSeconds"] ??= 600;
        TemplateMetadata(spec);
        var strategy = J.Obj(spec, "strategy");
        strategy["type"] ??= "RollingUpdate";
        if (J.Str(strategy, "type") == "RollingUpdate")
        {
            var ru = J.Obj(strategy, "rollingUpdate");
            ru["maxSurge"] ??= "25%";
            ru["maxUnavailable"] ??= "25%";
        }

        if (J.At(spec, "template", "spec") is JsonObject podSpec)
        {
            PodSpec(podSpec);
        }
    }

    /// <summary>Like the real API (Go metav1.Time zero value): template metadata always carries creationTimestamp: null.</summary>
    private static void TemplateMetadata(JsonObject spec)
    {
        if (spec["template"] is JsonObject template)
        {
            J.Obj(template, "metadata")["creationTimestamp"] = null;
        }
    }

    public static void PodSpec(JsonObject spec)
    {
        spec["restartPolicy"] ??= "Always";
        spec["terminationGracePeriodSeconds"] ??= 30;
        spec["dnsPolicy"] ??= "ClusterFirst";
        spec["securityContext"] ??= new JsonObject();
        spec["schedulerName"] ??= "default-scheduler";
        foreach (var list in new[] { "containers", "initContainers" })
        {
            if (spec[list] is not JsonArray containers)
            {
                continue;
            }

            foreach (var c in containers.OfType<JsonObject>())
            {
                var image = J.Str(c, "image") ?? "";
                c["imagePullPolicy"] ??= image.EndsWith(":latest", StringComparison.Ordinal) || !image.Contains(':', StringComparison.Ordinal) ? "Always" : "IfNotPresent";
                c["terminationMessagePath"] ??= "/dev/termination-log";
                c["terminationMessagePolicy"] ??= "File";
                c["resources"] ??= new JsonObject();
                if (c["ports"] is JsonArray ports)
                {
                    foreach (var p in ports.OfType<JsonObject>())
                    {
                        p["protocol"] ??= "TCP";
                    }
                }
            }
        }
    }

    public static void Validate(ResourceType rt, JsonObject obj, JsonObject? old)
    {
        var name = J.Name(obj);
        var causes = new List<(string, string)>();
        if (string.IsNullOrEmpty(name))
        {
            causes.Add(("metadata.name", "Required value: name or generateName is required"));
        }
        else if (name.Length > 253 || !NameRegex().IsMatch(name))
        {
            causes.Add(("metadata.name", $"Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"));
        }

        switch (rt.Plural)
        {
            case "deployments":
            case "replicasets":
                var replicas = J.Num(obj, "spec", "replicas");
                if (replicas is < 0)
                {
                    causes.Add(("spec.replicas", $"Invalid value: {J.Fmt(replicas.Value)}: must be greater than or equal to 0"));
                }

                var selector = J.At(obj, "spec", "selector");
                if (selector is not JsonObject sel || (J.At(sel, "matchLabels") is not JsonObject { Count: > 0 } && J.At(sel, "matchExpressions") is not JsonArray { Count: > 0 }))
                {
                    causes.Add(("spec.selector", "Required value"));
                }
                else if (!LabelSelector.FromObject(selector).Matches(J.StringMap(J.At(obj, "spec", "template", "metadata", "labels"))))
                {
                    causes.Add(("spec.template.metadata.labels", $"Invalid value: map[string]string{{{string.Join(", ", J.StringMap(J.At(obj, "spec", "template", "metadata", "labels")).Select(p => $"\"{p.Key}\":\"{p.Value}\""))}}}: `selector` does not match template `labels`"));
                }

                if (old is not null && !J.Same(J.At(old, "spec", "selector"), selector))
                {
                    causes.Add(("spec.selector", $"Invalid value: {J.Canonical(selector)}: field is immutable"));
                }

                ValidateContainers(J.At(obj, "spec", "template", "spec"), "spec.template.spec", causes);
                break;
            case "pods":
                ValidateContainers(obj["spec"], "spec", causes);
                break;
            case "horizontalpodautoscalers":
                var min = J.Num(obj, "spec", "minReplicas") ?? 1;
                var max = J.Num(obj, "spec", "maxReplicas") ?? 0;
                if (min < 1)
                {
                    causes.Add(("spec.minReplicas", $"Invalid value: {J.Fmt(min)}: must be greater than or equal to 1"));
                }

                if (max < min)
                {
                    causes.Add(("spec.maxReplicas", $"Invalid value: {J.Fmt(max)}: must be greater than or equal to `minReplicas`"));
                }

                break;
            default:
                break;
        }

        if (causes.Count > 0)
        {
            throw ApiException.Invalid(rt, name, causes);
        }
    }

    private static void ValidateContainers(JsonNode? podSpec, string path, List<(string, string)> causes)
    {
        if (J.At(podSpec, "containers") is not JsonArray { Count: > 0 } containers)
        {
            causes.Add(($"{path}.containers", "Required value"));
            return;
        }

        for (var i = 0; i < containers.Count; i++)
        {
            if (string.IsNullOrEmpty(J.Str(containers[i], "name")))
            {
                causes.Add(($"{path}.containers[{i}].name", "Required value"));
            }

            if (string.IsNullOrEmpty(J.Str(containers[i], "image")))
            {
                causes.Add(($"{path}.containers[{i}].image", "Required value"));
            }
        }
    }

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex NameRegex();
}
