using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Remediation.Cluster;

namespace Remediation.Diagnosis;

/// <summary>The Istio routing of a service as evidence: the VirtualService(s) routing it and the DestinationRule subsets (2 reads).</summary>
internal static class MeshRoutingEvidence
{
    public static async Task<IReadOnlyList<Evidence>> ReadAsync(DiagnosisRun run, IClusterReader reader, string @namespace, string service)
    {
        var vsTask = run.OptionalAsync("istio virtualservices", ct => reader.ListCustomObjectsAsync(CustomResource.VirtualService, @namespace, ct));
        var drTask = run.OptionalAsync("istio destinationrules", ct => reader.ListCustomObjectsAsync(CustomResource.DestinationRule, @namespace, ct));
        var evidence = new List<Evidence>();
        foreach (var vs in Items(await vsTask.ConfigureAwait(false)))
        {
            if (vs.TryGetProperty("spec", out var spec) && spec.TryGetProperty("hosts", out var hosts)
                && hosts.EnumerateArray().Any(h => HostMatches(h.GetString() ?? "", service, @namespace)))
            {
                evidence.Add(VirtualService(vs, spec, service));
            }
        }
        foreach (var dr in Items(await drTask.ConfigureAwait(false)))
        {
            if (dr.TryGetProperty("spec", out var spec) && spec.TryGetProperty("host", out var host) && HostMatches(host.GetString() ?? "", service, @namespace))
            {
                evidence.Add(DestinationRule(dr, spec));
            }
        }
        return evidence;
    }

    private static Evidence VirtualService(JsonElement vs, JsonElement spec, string service)
    {
        var routes = new List<string>();
        if (spec.TryGetProperty("http", out var http))
        {
            foreach (var route in http.EnumerateArray().Where(r => r.TryGetProperty("route", out _)).SelectMany(r => r.GetProperty("route").EnumerateArray()))
            {
                var dest = route.TryGetProperty("destination", out var d) ? d : default;
                var host = dest.ValueKind == JsonValueKind.Object && dest.TryGetProperty("host", out var h) ? h.GetString() : "?";
                var subset = dest.ValueKind == JsonValueKind.Object && dest.TryGetProperty("subset", out var s) ? s.GetString() : null;
                var weight = route.TryGetProperty("weight", out var w) && w.ValueKind == JsonValueKind.Number ? w.GetInt32() : (int?)null;
                routes.Add($"{host}{(subset is null ? "" : " subset " + subset)} {(weight is null ? "" : weight.Value.ToString(CultureInfo.InvariantCulture) + "%")}".TrimEnd());
            }
        }
        var name = Name(vs);
        return new Evidence("kubernetes", $"VirtualService {name} routes {service}: {string.Join(", ", routes)}",
            new Dictionary<string, string> { ["kind"] = "VirtualService", ["name"] = name, ["routes"] = string.Join(";", routes) });
    }

    private static Evidence DestinationRule(JsonElement dr, JsonElement spec)
    {
        var subsets = spec.TryGetProperty("subsets", out var ss)
            ? ss.EnumerateArray().Select(s => $"{(s.TryGetProperty("name", out var n) ? n.GetString() : "?")} ({(s.TryGetProperty("labels", out var l) ? string.Join(",", l.EnumerateObject().Select(p => $"{p.Name}={p.Value.GetString()}")) : "")})").ToList()
            : [];
        var name = Name(dr);
        return new Evidence("kubernetes", $"DestinationRule {name} subsets: {string.Join(", ", subsets)}",
            new Dictionary<string, string> { ["kind"] = "DestinationRule", ["name"] = name, ["subsets"] = string.Join(";", subsets) });
    }

    private static IEnumerable<JsonElement> Items(IReadOnlyList<JsonObject>? list) =>
        (list ?? []).Select(o => JsonDocument.Parse(o.ToJsonString()).RootElement);

    private static string Name(JsonElement obj) =>
        obj.TryGetProperty("metadata", out var m) && m.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "";

    private static bool HostMatches(string host, string service, string ns) =>
        host == service || host == $"{service}.{ns}" || host == $"{service}.{ns}.svc" || host == $"{service}.{ns}.svc.cluster.local";
}
