using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Remediation.ClusterSimulator.Json;

namespace Remediation.ClusterSimulator.Api;

/// <summary>
/// Who a request is evaluated for. The kubeconfig the simulator writes authenticates as a cluster admin
/// (<c>system:masters</c>, allowed everything, as on a real cluster); a request that impersonates someone
/// (<c>kubectl --as</c>, the <c>Impersonate-User</c>/<c>Impersonate-Group</c> headers) is evaluated for that user,
/// a service account when the name is <c>system:serviceaccount:NAMESPACE:NAME</c>.
/// </summary>
internal sealed record Requester(string User, IReadOnlyList<string> Groups)
{
    public const string AdminUser = "simulator-admin";

    private const string ServiceAccountPrefix = "system:serviceaccount:";

    public static readonly Requester Admin = new(AdminUser, ["system:masters", "system:authenticated"]);

    public bool IsMaster => Groups.Contains("system:masters");

    /// <summary>The service account (namespace, name) this user is, if it is one.</summary>
    public (string Namespace, string Name)? ServiceAccount
    {
        get
        {
            if (!User.StartsWith(ServiceAccountPrefix, StringComparison.Ordinal))
            {
                return null;
            }

            var parts = User[ServiceAccountPrefix.Length..].Split(':');
            return parts.Length == 2 ? (parts[0], parts[1]) : null;
        }
    }

    public static Requester From(IHeaderDictionary headers)
    {
        var user = headers["Impersonate-User"].ToString();
        if (string.IsNullOrEmpty(user))
        {
            return Admin;
        }

        var groups = headers["Impersonate-Group"].Where(g => !string.IsNullOrEmpty(g)).Select(g => g!).ToList();
        groups.Add("system:authenticated");
        var who = new Requester(user, groups);
        if (who.ServiceAccount is { } sa)
        {
            groups.Add("system:serviceaccounts");
            groups.Add("system:serviceaccounts:" + sa.Namespace);
        }

        return who;
    }
}

/// <summary>One request as RBAC sees it (a resource request, or a non-resource path when Resource is null).</summary>
internal sealed record AccessRequest(string Verb, string? Group, string? Resource, string? Subresource, string? Namespace, string? Name, string? Path = null)
{
    public static AccessRequest Of(RequestInfo info) =>
        new(info.Verb, info.Group ?? "", info.Type?.Plural ?? info.Resource.Split('/')[0], info.Subresource, info.Namespace, info.Name);
}

internal sealed record AccessDecision(bool Allowed, string Reason);

/// <summary>
/// Kubernetes RBAC over the Role/ClusterRole/RoleBinding/ClusterRoleBinding objects in the store (loaded from a scenario
/// or with <c>kubectl apply</c>). When the store holds none of them the simulator allows every request, as it always
/// did: scenarios without RBAC need no permissions set up. Once any RBAC object exists, only cluster admins
/// (<c>system:masters</c>) and what the bindings grant are allowed: there is no other default grant.
/// </summary>
internal sealed class RbacAuthorizer(ObjectStore store)
{
    public bool Loaded =>
        store.List(Resources.Roles).Count > 0 || store.List(Resources.RoleBindings).Count > 0
        || store.List(Resources.ClusterRoles).Count > 0 || store.List(Resources.ClusterRoleBindings).Count > 0;

    public AccessDecision Decide(Requester who, AccessRequest what)
    {
        if (who.IsMaster)
        {
            return new AccessDecision(true, "a member of system:masters may do anything");
        }

        if (!Loaded)
        {
            return new AccessDecision(true, "no RBAC objects are loaded: the cluster simulator allows every request");
        }

        if (what.Resource is null)
        {
            // Discovery, version and health paths: every authenticated user may read them (system:discovery).
            return new AccessDecision(what.Verb == "get", "non-resource paths are readable by every authenticated user");
        }

        foreach (var (binding, rules) in RulesFor(who, what.Namespace))
        {
            if (rules.Any(r => Matches(r, what)))
            {
                return new AccessDecision(true, $"RBAC: allowed by {binding}");
            }
        }

        return new AccessDecision(false, "");
    }

    /// <summary>Every (binding description, rules) that applies to the user in the namespace (cluster-wide ones included).</summary>
    public IEnumerable<(string Binding, IReadOnlyList<JsonObject> Rules)> RulesFor(Requester who, string? ns)
    {
        foreach (var crb in store.List(Resources.ClusterRoleBindings).Where(b => Binds(b, who)))
        {
            yield return ($"ClusterRoleBinding \"{J.Name(crb)}\" of ClusterRole \"{J.Str(crb, "roleRef", "name")}\"", RoleRules(crb, null));
        }

        if (string.IsNullOrEmpty(ns))
        {
            yield break;
        }

        foreach (var rb in store.List(Resources.RoleBindings, ns).Where(b => Binds(b, who)))
        {
            var kind = J.Str(rb, "roleRef", "kind");
            yield return ($"RoleBinding \"{ns}/{J.Name(rb)}\" of {kind} \"{J.Str(rb, "roleRef", "name")}\"", RoleRules(rb, ns));
        }
    }

    /// <summary>The "Forbidden" answer the API server gives, worded as Kubernetes words it.</summary>
    public static ApiException Forbidden(Requester who, AccessRequest what)
    {
        var resource = what.Subresource is null ? what.Resource : $"{what.Resource}/{what.Subresource}";
        var qualified = string.IsNullOrEmpty(what.Group) ? resource : $"{resource}.{what.Group}";
        var subject = what.Name is null ? qualified : $"{qualified} \"{what.Name}\"";
        var scope = what.Namespace is null ? "at the cluster scope" : $"in the namespace \"{what.Namespace}\"";
        var message = $"{subject} is forbidden: User \"{who.User}\" cannot {what.Verb} resource \"{resource}\" in API group \"{what.Group}\" {scope}";
        var details = new JsonObject { ["kind"] = what.Resource };
        if (what.Name is not null)
        {
            details["name"] = what.Name;
        }

        if (!string.IsNullOrEmpty(what.Group))
        {
            details["group"] = what.Group;
        }

        return new ApiException(403, "Forbidden", message, details);
    }

    private List<JsonObject> RoleRules(JsonObject binding, string? ns)
    {
        var name = J.Str(binding, "roleRef", "name") ?? "";
        var role = J.Str(binding, "roleRef", "kind") == "Role" && ns is not null
            ? store.Get(Resources.Roles, ns, name)
            : store.Get(Resources.ClusterRoles, null, name);
        return (role?["rules"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
    }

    private static bool Binds(JsonObject binding, Requester who)
    {
        var bindingNs = J.Namespace(binding);
        foreach (var subject in (binding["subjects"] as JsonArray)?.OfType<JsonObject>() ?? [])
        {
            var name = J.Str(subject, "name");
            var matched = J.Str(subject, "kind") switch
            {
                "User" => name == who.User,
                "Group" => name is not null && who.Groups.Contains(name),
                "ServiceAccount" => who.ServiceAccount is { } sa && sa.Name == name && sa.Namespace == (J.Str(subject, "namespace") ?? bindingNs),
                _ => false,
            };
            if (matched)
            {
                return true;
            }
        }

        return false;
    }

    private static bool Matches(JsonObject rule, AccessRequest what)
    {
        var resource = what.Subresource is null ? what.Resource! : $"{what.Resource}/{what.Subresource}";
        var names = Strings(rule, "resourceNames");
        return Strings(rule, "verbs").Any(v => v == "*" || v == what.Verb)
            && Strings(rule, "apiGroups").Any(g => g == "*" || g == (what.Group ?? ""))
            && Strings(rule, "resources").Any(r => r == "*" || r == resource || (what.Subresource is not null && r == "*/" + what.Subresource))
            && (names.Count == 0 || (what.Name is not null && names.Contains(what.Name)));
    }

    private static List<string> Strings(JsonObject o, string key) =>
        (o[key] as JsonArray)?.Select(n => n?.GetValue<string>()).OfType<string>().ToList() ?? [];
}
