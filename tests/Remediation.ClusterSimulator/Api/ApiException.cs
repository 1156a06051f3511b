using System.Text.Json.Nodes;

namespace Remediation.ClusterSimulator.Api;

/// <summary>An error that is answered with a metav1.Status body.</summary>
internal sealed class ApiException : Exception
{
    public ApiException(int code, string reason, string message, JsonObject? details = null)
        : base(message)
    {
        Code = code;
        Reason = reason;
        Details = details;
    }

    public int Code { get; }

    public string Reason { get; }

    public JsonObject? Details { get; }

    public JsonObject ToStatus()
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = Message,
            ["reason"] = Reason,
        };
        if (Details is not null)
        {
            status["details"] = Details.DeepClone();
        }

        status["code"] = Code;
        return status;
    }

    private static JsonObject DetailsFor(ResourceType rt, string name)
    {
        var d = new JsonObject { ["name"] = name };
        if (rt.Group != "")
        {
            d["group"] = rt.Group;
        }

        d["kind"] = rt.Plural;
        return d;
    }

    public static ApiException NotFound(ResourceType rt, string name) =>
        new(404, "NotFound", $"{rt.QualifiedName} \"{name}\" not found", DetailsFor(rt, name));

    public static ApiException AlreadyExists(ResourceType rt, string name) =>
        new(409, "AlreadyExists", $"{rt.QualifiedName} \"{name}\" already exists", DetailsFor(rt, name));

    public static ApiException Conflict(ResourceType rt, string name) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {rt.QualifiedName} \"{name}\": the object has been modified; please apply your changes to the latest version and try again", DetailsFor(rt, name));

    public static ApiException Invalid(ResourceType rt, string name, IReadOnlyList<(string Field, string Message)> causes)
    {
        var d = new JsonObject { ["name"] = name };
        if (rt.Group != "")
        {
            d["group"] = rt.Group;
        }

        d["kind"] = rt.Kind;
        var arr = new JsonArray();
        foreach (var (field, message) in causes)
        {
            arr.Add(new JsonObject { ["reason"] = "FieldValueInvalid", ["message"] = message, ["field"] = field });
        }

        d["causes"] = arr;
        var parts = causes.Select(c => $"{c.Field}: {c.Message}").ToList();
        var joined = parts.Count == 1 ? parts[0] : "[" + string.Join(", ", parts) + "]";
        var kind = rt.Group == "" ? rt.Kind : $"{rt.Kind}.{rt.Group}";
        return new ApiException(422, "Invalid", $"{kind} \"{name}\" is invalid: {joined}", d);
    }

    public static ApiException BadRequest(string message) => new(400, "BadRequest", message);

    public static ApiException MethodNotAllowed(string message = "the server does not allow this method on the requested resource") =>
        new(405, "MethodNotAllowed", message);

    public static ApiException UnsupportedMediaType(string contentType) =>
        new(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got \"{contentType}\")");

    public static ApiException PathNotFound() => new(404, "NotFound", "the server could not find the requested resource");
}
