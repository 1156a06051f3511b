using System.Text.Json.Nodes;

namespace Remediation.ClusterSimulator.Api;

/// <summary>Legacy (non-aggregated) discovery documents.</summary>
internal static class Discovery
{
    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = "v1.32.4",
        ["gitCommit"] = "59526cd4867447956156ae3a602fcbac10a2c335",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2025-04-22T16:02:27Z",
        ["goVersion"] = "go1.23.6",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    public static JsonObject CoreVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    private static JsonObject Group(string group)
    {
        var versions = Resources.GroupVersions.Where(gv => gv.Group == group).Select(gv => gv.Version).ToList();
        var arr = new JsonArray();
        foreach (var v in versions)
        {
            arr.Add(new JsonObject { ["groupVersion"] = $"{group}/{v}", ["version"] = v });
        }

        return new JsonObject
        {
            ["name"] = group,
            ["versions"] = arr,
            ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{group}/{versions[0]}", ["version"] = versions[0] },
        };
    }

    public static JsonObject GroupList()
    {
        var groups = new JsonArray();
        foreach (var g in Resources.GroupVersions.Select(gv => gv.Group).Distinct())
        {
            groups.Add(Group(g));
        }

        return new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = groups };
    }

    public static JsonObject? GroupDoc(string group)
    {
        if (!Resources.GroupVersions.Any(gv => gv.Group == group))
        {
            return null;
        }

        var g = Group(group);
        g["kind"] = "APIGroup";
        g["apiVersion"] = "v1";
        return g;
    }

    public static JsonObject? ResourceList(string group, string version)
    {
        var types = Resources.All.Where(r => r.Group == group && r.Version == version).ToList();
        if (types.Count == 0)
        {
            return null;
        }

        var list = new JsonArray();
        foreach (var rt in types)
        {
            var entry = new JsonObject
            {
                ["name"] = rt.Plural,
                ["singularName"] = rt.Singular,
                ["namespaced"] = rt.Namespaced,
                ["kind"] = rt.Kind,
                ["verbs"] = new JsonArray(rt.Verbs.Select(v => (JsonNode)v).ToArray()),
            };
            if (rt.ShortNames.Length > 0)
            {
                entry["shortNames"] = new JsonArray(rt.ShortNames.Select(v => (JsonNode)v).ToArray());
            }

            if (rt.InAllCategory)
            {
                entry["categories"] = new JsonArray("all");
            }

            list.Add(entry);
            if (rt.HasStatus)
            {
                list.Add(new JsonObject
                {
                    ["name"] = rt.Plural + "/status",
                    ["singularName"] = "",
                    ["namespaced"] = rt.Namespaced,
                    ["kind"] = rt.Kind,
                    ["verbs"] = new JsonArray("get", "patch", "update"),
                });
            }

            if (rt.HasScale)
            {
                list.Add(new JsonObject
                {
                    ["name"] = rt.Plural + "/scale",
                    ["singularName"] = "",
                    ["namespaced"] = rt.Namespaced,
                    ["group"] = "autoscaling",
                    ["version"] = "v1",
                    ["kind"] = "Scale",
                    ["verbs"] = new JsonArray("get", "patch", "update"),
                });
            }

            if (rt.Plural == "pods")
            {
                list.Add(new JsonObject { ["name"] = "pods/log", ["singularName"] = "", ["namespaced"] = true, ["kind"] = "Pod", ["verbs"] = new JsonArray("get") });
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group == "" ? version : $"{group}/{version}",
            ["resources"] = list,
        };
    }
}
