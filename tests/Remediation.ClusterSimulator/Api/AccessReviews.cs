using System.Text.Json.Nodes;
using Remediation.ClusterSimulator.Json;

namespace Remediation.ClusterSimulator.Api;

/// <summary>
/// SelfSubjectAccessReview (<c>kubectl auth can-i VERB RESOURCE</c>) and SelfSubjectRulesReview
/// (<c>kubectl auth can-i --list</c>), answered by <see cref="RbacAuthorizer"/> for the requesting user. kubectl posts
/// both as protobuf; JSON and YAML bodies work too.
/// </summary>
internal static class AccessReviews
{
    public static JsonObject Answer(ResourceType rt, JsonObject review, RbacAuthorizer rbac, Requester who)
    {
        review["status"] = rt.Plural == "selfsubjectaccessreviews"
            ? AccessStatus(review, rbac, who)
            : RulesStatus(review, rbac, who);
        J.Meta(review)["creationTimestamp"] = null;
        return review;
    }

    /// <summary>The review kubectl sent as protobuf, as the JSON object it stands for (only the spec is read).</summary>
    public static JsonObject FromProtobuf(ResourceType rt, ReadOnlyMemory<byte> body)
    {
        ReadOnlyMemory<byte> review;
        try
        {
            review = Protobuf.Unwrap(body);
        }
        catch (FormatException ex)
        {
            throw ApiException.BadRequest($"the object provided is unrecognized: {ex.Message}");
        }

        var spec = new JsonObject();
        if (rt.Plural == "selfsubjectrulesreviews")
        {
            spec["namespace"] = Protobuf.String(review, 2, 1);
        }
        else if (Protobuf.Field(review, 2) is { } s && Protobuf.Field(s, 1) is { } attributes)
        {
            string[] names = ["namespace", "verb", "group", "version", "resource", "subresource", "name"];
            var resource = new JsonObject();
            for (var i = 0; i < names.Length; i++)
            {
                if (Protobuf.String(attributes, i + 1) is { Length: > 0 } value)
                {
                    resource[names[i]] = value;
                }
            }

            spec["resourceAttributes"] = resource;
        }
        else if (Protobuf.Field(review, 2) is { } s2 && Protobuf.Field(s2, 2) is { } nonResource)
        {
            spec["nonResourceAttributes"] = new JsonObject { ["path"] = Protobuf.String(nonResource, 1), ["verb"] = Protobuf.String(nonResource, 2) };
        }

        return new JsonObject { ["apiVersion"] = rt.ApiVersion, ["kind"] = rt.Kind, ["metadata"] = new JsonObject(), ["spec"] = spec };
    }

    private static JsonObject AccessStatus(JsonObject review, RbacAuthorizer rbac, Requester who)
    {
        AccessRequest what;
        if (J.At(review, "spec", "resourceAttributes") is JsonObject ra)
        {
            var ns = J.Str(ra, "namespace");
            what = new AccessRequest(J.Str(ra, "verb") ?? "", J.Str(ra, "group") ?? "", J.Str(ra, "resource") ?? "",
                J.Str(ra, "subresource") is { Length: > 0 } sub ? sub : null, string.IsNullOrEmpty(ns) ? null : ns, J.Str(ra, "name") is { Length: > 0 } n ? n : null);
        }
        else if (J.At(review, "spec", "nonResourceAttributes") is JsonObject nra)
        {
            what = new AccessRequest(J.Str(nra, "verb") ?? "", null, null, null, null, null, J.Str(nra, "path"));
        }
        else
        {
            throw ApiException.BadRequest("spec.resourceAttributes or spec.nonResourceAttributes is required");
        }

        var decision = rbac.Decide(who, what);
        var status = new JsonObject { ["allowed"] = decision.Allowed };
        if (decision.Reason.Length > 0)
        {
            status["reason"] = decision.Reason;
        }

        return status;
    }

    private static JsonObject RulesStatus(JsonObject review, RbacAuthorizer rbac, Requester who)
    {
        var resourceRules = new JsonArray();
        var nonResourceRules = new JsonArray();
        if (who.IsMaster || !rbac.Loaded)
        {
            resourceRules.Add(new JsonObject { ["verbs"] = new JsonArray("*"), ["apiGroups"] = new JsonArray("*"), ["resources"] = new JsonArray("*") });
            nonResourceRules.Add(new JsonObject { ["verbs"] = new JsonArray("*"), ["nonResourceURLs"] = new JsonArray("*") });
        }
        else
        {
            foreach (var (_, rules) in rbac.RulesFor(who, J.Str(review, "spec", "namespace")))
            {
                foreach (var rule in rules.Where(r => r["resources"] is not null))
                {
                    resourceRules.Add(rule.DeepClone());
                }
            }

            nonResourceRules.Add(new JsonObject { ["verbs"] = new JsonArray("get"), ["nonResourceURLs"] = new JsonArray("/api", "/api/*", "/apis", "/apis/*", "/version", "/healthz", "/readyz", "/livez") });
        }

        return new JsonObject { ["resourceRules"] = resourceRules, ["nonResourceRules"] = nonResourceRules, ["incomplete"] = false };
    }
}
