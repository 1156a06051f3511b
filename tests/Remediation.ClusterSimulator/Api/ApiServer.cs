using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Remediation.ClusterSimulator.Json;
using Remediation.ClusterSimulator.Sim;
using YamlDotNet.Core;

namespace Remediation.ClusterSimulator.Api;

internal sealed record RequestInfo(
    bool IsResource,
    string Verb,
    string? Group,
    string? Version,
    ResourceType? Type,
    string Resource,
    string? Subresource,
    string? Namespace,
    string? Name,
    bool DryRun);

internal sealed record ApiResult(int Code, JsonNode? Json, string? Text = null, string? ContentType = null);

/// <summary>Handles Kubernetes API HTTP requests against a <see cref="ClusterCore"/>.</summary>
internal sealed class ApiServer
{
    private readonly ClusterCore _core;
    private readonly FaultInjector _faults;
    private readonly Action<RecordedRequest> _record;
    private readonly Func<string> _serverAddress;
    private readonly CancellationToken _stopping;
    private readonly RbacAuthorizer _rbac;
    private int _serviceIpCounter;

    public ApiServer(ClusterCore core, FaultInjector faults, Action<RecordedRequest> record, Func<string> serverAddress, CancellationToken stopping)
    {
        _core = core;
        _faults = faults;
        _record = record;
        _serverAddress = serverAddress;
        _stopping = stopping;
        _rbac = new RbacAuthorizer(core.Store);
    }

    public static RequestInfo Parse(string method, string path, IQueryCollection query)
    {
        var parts = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        var dryRun = query.TryGetValue("dryRun", out var dr) && dr.Count > 0 && !string.IsNullOrEmpty(dr[0]);
        string? group;
        string? version;
        int i;
        if (parts.Length >= 2 && parts[0] == "api")
        {
            group = "";
            version = parts[1];
            i = 2;
        }
        else if (parts.Length >= 3 && parts[0] == "apis")
        {
            group = parts[1];
            version = parts[2];
            i = 3;
        }
        else
        {
            return new RequestInfo(false, method == "GET" ? "get" : method.ToLowerInvariant(), null, null, null, "", null, null, null, dryRun);
        }

        var rest = parts[i..];
        string? ns = null;
        if (rest.Length >= 3 && rest[0] == "namespaces" && rest[2] is not ("status" or "finalize"))
        {
            ns = rest[1];
            rest = rest[2..];
        }

        if (rest.Length == 0)
        {
            return new RequestInfo(false, "get", group, version, null, "", null, null, null, dryRun);
        }

        var plural = rest[0];
        var name = rest.Length > 1 ? rest[1] : null;
        var sub = rest.Length > 2 ? rest[2] : null;
        if (plural == "namespaces" && name is not null)
        {
            ns = name;
        }

        var watch = query.TryGetValue("watch", out var w) && w.Count > 0 && (w[0] == "true" || w[0] == "1");
        var verb = method switch
        {
            "GET" when name is null => watch ? "watch" : "list",
            "GET" => "get",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => "delete",
            _ => method.ToLowerInvariant(),
        };
        var rt = Resources.Find(group, version, plural);
        var resource = sub is null ? plural : $"{plural}/{sub}";
        return new RequestInfo(true, verb, group, version, rt, resource, sub, ns, name, dryRun);
    }

    public async Task HandleAsync(HttpContext ctx)
    {
        var req = ctx.Request;
        string? body = null;
        byte[]? rawBody = null;
        if (req.ContentLength > 0 || req.Headers.TransferEncoding.Count > 0)
        {
            // Kept as bytes too: kubectl posts access reviews as protobuf, which a text decoding would mangle.
            using var buffer = new MemoryStream();
            await req.Body.CopyToAsync(buffer, ctx.RequestAborted).ConfigureAwait(false);
            rawBody = buffer.ToArray();
            body = Encoding.UTF8.GetString(rawBody);
        }

        var who = Requester.From(req.Headers);

        var info = Parse(req.Method, req.Path.Value ?? "/", req.Query);
        if (info.Verb == "delete" && !info.DryRun && DeleteOptionsDryRun(body))
        {
            info = info with { DryRun = true };
        }

        var rawTarget = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? req.Path.Value ?? "/";
        var queryAt = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var rawPath = queryAt < 0 ? rawTarget : rawTarget[..queryAt];
        var recorded = false;
        void Record(int status, int? answered = null)
        {
            if (recorded)
            {
                return;
            }

            recorded = true;
            _record(new RecordedRequest(
                req.Method,
                req.Path.Value ?? "/",
                req.QueryString.Value ?? "",
                req.ContentType,
                body,
                status,
                info.Verb,
                info.Group,
                info.Resource,
                info.Namespace,
                info.Name,
                info.DryRun)
            {
                RawPath = rawPath,
                AnsweredStatusCode = answered ?? status,
            });
        }

        var fault = info.IsResource ? _faults.Match(info.Verb, info.Resource, info.Namespace, info.Name) : null;
        if (fault is not null && !fault.AfterApply)
        {
            if (fault.Latency is { } latency)
            {
                await Task.Delay(latency, ctx.RequestAborted).ConfigureAwait(false);
            }

            if (fault.DropConnection)
            {
                Record(0);
                ctx.Abort();
                return;
            }

            if (fault.StatusCode is { } code)
            {
                Record(code);
                await WriteAsync(ctx, InjectedStatus(ctx, fault, code)).ConfigureAwait(false);
                return;
            }
        }

        ApiResult result;
        try
        {
            if (!info.IsResource)
            {
                result = NonResource(req.Path.Value ?? "/", req.Headers.Accept.ToString(), info);
            }
            else if (info.Type is null)
            {
                throw ApiException.PathNotFound();
            }
            else if (info.Verb == "watch")
            {
                lock (_core.Gate)
                {
                    Authorize(who, info);
                }

                await WatchAsync(ctx, info, status => Record(status)).ConfigureAwait(false);
                return;
            }
            else
            {
                var waiting = System.Diagnostics.Stopwatch.GetTimestamp();
                _core.ApiArriving();
                lock (_core.Gate)
                {
                    _core.ApiEntered();
                    _core.GateStats.RecordApiWait(System.Diagnostics.Stopwatch.GetElapsedTime(waiting).TotalMilliseconds);
                    result = IsAccessReview(info)
                        ? Review(info, who, req.ContentType, rawBody, body)
                        : Authorize(who, info).Dispatch(info, req.Query, req.ContentType, body);
                }

                if (result.Json is JsonObject o && result.Code < 300 && info.Verb is "get" or "list" && info.Subresource is null && WantsTable(req.Headers.Accept.ToString()))
                {
                    result = result with { Json = Tables.ToTable(info.Type, o, info.Verb == "list", _core.Now) };
                }
            }
        }
        catch (ApiException ex)
        {
            result = new ApiResult(ex.Code, ex.ToStatus());
        }

        if (fault is { AfterApply: true })
        {
            // The request took effect (or failed) for real; only its reply is held, dropped or replaced.
            if (fault.Latency is { } held)
            {
                await Task.Delay(held, ctx.RequestAborted).ConfigureAwait(false);
            }

            if (fault.DropConnection)
            {
                Record(result.Code, answered: 0);
                ctx.Abort();
                return;
            }

            if (fault.StatusCode is { } injected)
            {
                Record(result.Code, answered: injected);
                await WriteAsync(ctx, InjectedStatus(ctx, fault, injected)).ConfigureAwait(false);
                return;
            }
        }

        Record(result.Code);
        await WriteAsync(ctx, result).ConfigureAwait(false);
    }

    /// <summary>The Status body (and Retry-After) of an injected error answer.</summary>
    private static ApiResult InjectedStatus(HttpContext ctx, FaultRule fault, int code)
    {
        var reason = code switch
        {
            429 => "TooManyRequests",
            409 => "Conflict",
            422 => "Invalid",
            503 => "ServiceUnavailable",
            504 => "Timeout",
            _ => "InternalError",
        };
        var message = code switch
        {
            429 => "Too many requests, please try again later.",
            409 => "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again",
            422 => "the request is invalid (injected fault)",
            503 => "the server is currently unable to handle the request",
            504 => "the server was unable to return a response in the time allotted, but may still be processing the request",
            _ => "an error on the server (\"injected fault\") has prevented the request from succeeding",
        };
        if (code is 429 or 503)
        {
            ctx.Response.Headers.RetryAfter = fault.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }

        return new ApiResult(code, new ApiException(code, reason, message).ToStatus());
    }

    private static bool DeleteOptionsDryRun(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return false;
        }

        try
        {
            return J.Parse(body) is JsonObject o && o["dryRun"] is JsonArray { Count: > 0 };
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool WantsTable(string accept) => accept.Contains("as=Table", StringComparison.Ordinal);

    private static async Task WriteAsync(HttpContext ctx, ApiResult result)
    {
        ctx.Response.StatusCode = result.Code;
        if (result.Text is not null)
        {
            ctx.Response.ContentType = result.ContentType ?? "text/plain";
            await ctx.Response.WriteAsync(result.Text, ctx.RequestAborted).ConfigureAwait(false);
            return;
        }

        ctx.Response.ContentType = result.ContentType ?? "application/json";
        if (result.Json is not null)
        {
            await ctx.Response.WriteAsync(result.Json.ToJsonString(J.Compact), ctx.RequestAborted).ConfigureAwait(false);
        }
    }

    // ------------------------------------------------------------------ non-resource paths

    private ApiResult NonResource(string path, string accept, RequestInfo info)
    {
        var p = path.TrimEnd('/');
        if (p == "")
        {
            p = "/";
        }

        switch (p)
        {
            case "/version":
                return new ApiResult(200, Discovery.Version());
            case "/api":
                return new ApiResult(200, Discovery.CoreVersions(_serverAddress()));
            case "/apis":
                return new ApiResult(200, Discovery.GroupList());
            case "/healthz" or "/readyz" or "/livez":
                return new ApiResult(200, null, "ok");
            case "/metrics":
                lock (_core.Gate)
                {
                    return new ApiResult(200, null, _core.Metrics.Render(), "text/plain; version=0.0.4; charset=utf-8");
                }

            case "/openapi/v2":
                if (accept.Contains("protobuf", StringComparison.Ordinal))
                {
                    // An empty protobuf message is a valid (empty) openapi_v2.Document.
                    return new ApiResult(200, null, "", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
                }

                return new ApiResult(200, new JsonObject
                {
                    ["swagger"] = "2.0",
                    ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.32.4" },
                    ["paths"] = new JsonObject(),
                    ["definitions"] = new JsonObject(),
                });
            case "/openapi/v3":
                return new ApiResult(200, new JsonObject { ["paths"] = new JsonObject() });
            default:
                break;
        }

        if (info.Group is not null && info.Version is not null)
        {
            var list = Discovery.ResourceList(info.Group, info.Version);
            if (list is not null)
            {
                return new ApiResult(200, list);
            }
        }

        var parts = p.Trim('/').Split('/');
        if (parts.Length == 2 && parts[0] == "apis" && Discovery.GroupDoc(parts[1]) is { } g)
        {
            return new ApiResult(200, g);
        }

        throw ApiException.PathNotFound();
    }

    // ------------------------------------------------------------------ dispatch

    private ApiResult Dispatch(RequestInfo info, IQueryCollection query, string? contentType, string? body)
    {
        var rt = info.Type!;
        if (rt.Namespaced && info.Namespace is null && info.Verb is "create" or "get" or "update" or "patch" or "delete" && rt.Plural != "namespaces")
        {
            throw ApiException.PathNotFound();
        }

        if (info.Subresource is not null && !IsKnownSubresource(rt, info.Subresource))
        {
            throw ApiException.PathNotFound();
        }

        var mutating = info.Verb is "create" or "update" or "patch" or "delete" && !info.DryRun;
        if (mutating && rt.Plural is not ("selfsubjectaccessreviews" or "selfsubjectrulesreviews"))
        {
            _core.Metrics.Advance();
        }

        var result = info.Verb switch
        {
            "get" => Get(info, query),
            "list" => List(info, query),
            "create" => Create(info, contentType, body),
            "update" => Update(info, contentType, body),
            "patch" => Patch(info, query, contentType, body),
            "delete" when info.Name is null => DeleteCollection(info, query),
            "delete" => Delete(info, query, body),
            _ => throw ApiException.MethodNotAllowed(),
        };
        if (mutating && result.Code < 300 && _core.Options.ReconcileOnWrite)
        {
            _core.Controllers.Reconcile();
        }

        return result;
    }

    private static bool IsAccessReview(RequestInfo info) =>
        info.Type is { Plural: "selfsubjectaccessreviews" or "selfsubjectrulesreviews" } && info.Verb == "create";

    /// <summary>Refuses (403) what RBAC does not grant the requester; every user may review their own access.</summary>
    private ApiServer Authorize(Requester who, RequestInfo info)
    {
        var what = AccessRequest.Of(info);
        if (!_rbac.Decide(who, what).Allowed)
        {
            throw RbacAuthorizer.Forbidden(who, what);
        }

        return this;
    }

    /// <summary>Answers an access review for the requester from the loaded RBAC objects.</summary>
    private ApiResult Review(RequestInfo info, Requester who, string? contentType, byte[]? rawBody, string? body)
    {
        var rt = info.Type!;
        if (info.Name is not null || info.Subresource is not null)
        {
            throw ApiException.MethodNotAllowed();
        }

        var review = (contentType ?? "").Contains("protobuf", StringComparison.OrdinalIgnoreCase)
            ? AccessReviews.FromProtobuf(rt, rawBody ?? [])
            : ParseObject(contentType, body);
        CheckKind(rt, review);
        return new ApiResult(201, AccessReviews.Answer(rt, review, _rbac, who));
    }

    private static bool IsKnownSubresource(ResourceType rt, string sub) =>
        (sub == "status" && rt.HasStatus) || (sub == "scale" && rt.HasScale) || (sub == "log" && rt.Plural == "pods");

    private JsonObject Existing(RequestInfo info)
    {
        var rt = info.Type!;
        var name = info.Name ?? throw ApiException.MethodNotAllowed();
        return _core.Store.Get(rt, info.Namespace, name) ?? throw ApiException.NotFound(rt, name);
    }

    private ApiResult Get(RequestInfo info, IQueryCollection query)
    {
        var obj = Existing(info);
        return info.Subresource switch
        {
            "scale" => new ApiResult(200, ScaleOf(obj)),
            "log" => new ApiResult(200, null, PodLog(obj, query)),
            _ => new ApiResult(200, J.Clone(obj)),
        };
    }

    private string PodLog(JsonObject pod, IQueryCollection query)
    {
        var container = query.TryGetValue("container", out var c) && c.Count > 0 ? c[0] : null;
        var spec = (J.At(pod, "spec", "containers") as JsonArray)?.OfType<JsonObject>().FirstOrDefault(x => container is null || J.Str(x, "name") == container);
        var image = J.Str(spec, "image") ?? "";
        var behaviour = _core.BehaviourFor(image);
        var start = J.Str(pod, "status", "startTime") ?? J.Time(_core.Now);
        return behaviour.NormalizedMode switch
        {
            "crashloop" or "crashloopbackoff" => $"{start} INFO starting {image}\n{start} ERROR failed to load configuration: missing required key PAYMENT_GATEWAY_URL\npanic: configuration error\n",
            "oomkilled" or "oom" => $"{start} INFO starting {image}\n{start} INFO warming cache (this may take a while)\n",
            "imagepullbackoff" or "pending" => "",
            _ => $"{start} INFO starting {image}\n{start} INFO listening on :8080\n",
        };
    }

    private static JsonObject ScaleOf(JsonObject obj)
    {
        var meta = new JsonObject
        {
            ["name"] = J.Name(obj),
            ["namespace"] = J.Namespace(obj),
            ["uid"] = J.Uid(obj),
            ["resourceVersion"] = J.Str(obj, "metadata", "resourceVersion"),
            ["creationTimestamp"] = J.Str(obj, "metadata", "creationTimestamp"),
        };
        var status = new JsonObject { ["replicas"] = J.Long(obj, "status", "replicas") ?? 0 };
        var selector = LabelSelector.ToText(J.At(obj, "spec", "selector"));
        if (selector.Length > 0)
        {
            status["selector"] = selector;
        }

        return new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = "autoscaling/v1",
            ["metadata"] = meta,
            ["spec"] = new JsonObject { ["replicas"] = J.Long(obj, "spec", "replicas") ?? 1 },
            ["status"] = status,
        };
    }

    private ApiResult List(RequestInfo info, IQueryCollection query)
    {
        var rt = info.Type!;
        var labels = LabelSelector.Parse(query.TryGetValue("labelSelector", out var ls) ? ls.ToString() : null);
        var fields = FieldSelector.Parse(query.TryGetValue("fieldSelector", out var fs) ? fs.ToString() : null);
        var (limit, after) = ListPage.Parse(query);
        var items = new JsonArray();
        var metadata = new JsonObject { ["resourceVersion"] = _core.Store.ResourceVersion.ToString(CultureInfo.InvariantCulture) };
        var matching = _core.Store.List(rt, info.Namespace, [.. labels.Facts, .. fields.Facts])
            .Where(o => labels.Matches(o) && fields.Matches(o) && (after is null || string.CompareOrdinal(ListPage.Position(o), after) > 0))
            .ToList();
        foreach (var o in matching.Take(limit))
        {
            items.Add(J.Clone(o));
        }
        if (matching.Count > limit)
        {
            // As the API server: the rest is read with the continue token (here the position of the last item returned).
            metadata["continue"] = ListPage.Token(matching[limit - 1]);
            metadata["remainingItemCount"] = matching.Count - limit;
        }

        return new ApiResult(200, new JsonObject
        {
            ["kind"] = rt.ListKind,
            ["apiVersion"] = rt.ApiVersion,
            ["metadata"] = metadata,
            ["items"] = items,
        });
    }

    private static JsonObject ParseObject(string? contentType, string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            throw ApiException.BadRequest("the request body is empty");
        }

        if ((contentType ?? "").Contains("protobuf", StringComparison.OrdinalIgnoreCase))
        {
            throw new ApiException(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got \"{contentType}\")");
        }

        JsonNode? node;
        try
        {
            node = (contentType ?? "").Contains("yaml", StringComparison.OrdinalIgnoreCase) ? YamlJson.ParseJsonOrYaml(body) : J.Parse(body);
        }
        catch (JsonException ex)
        {
            throw ApiException.BadRequest($"the object provided is unrecognized: {ex.Message}");
        }
        catch (YamlException ex)
        {
            throw ApiException.BadRequest($"the object provided is unrecognized: {ex.Message}");
        }

        return node as JsonObject ?? throw ApiException.BadRequest("the object provided is unrecognized: expected a JSON object");
    }

    private void CheckKind(ResourceType rt, JsonObject obj)
    {
        var apiVersion = J.Str(obj, "apiVersion");
        var kind = J.Str(obj, "kind");
        if (apiVersion is not null && apiVersion != rt.ApiVersion)
        {
            throw ApiException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({rt.ApiVersion})");
        }

        if (kind is not null && kind != rt.Kind)
        {
            throw ApiException.BadRequest($"the kind in the data ({kind}) does not match the expected kind ({rt.Kind})");
        }

        obj["apiVersion"] = rt.ApiVersion;
        obj["kind"] = rt.Kind;
    }

    private void CheckNamespace(ResourceType rt, JsonObject obj, string? urlNamespace)
    {
        if (!rt.Namespaced)
        {
            return;
        }

        var meta = J.Meta(obj);
        var bodyNs = J.Str(meta, "namespace");
        if (bodyNs is not null && bodyNs != "" && bodyNs != urlNamespace)
        {
            throw ApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        meta["namespace"] = urlNamespace;
        if (_core.Store.Get(Resources.Namespaces, null, urlNamespace ?? "") is null)
        {
            throw ApiException.NotFound(Resources.Namespaces, urlNamespace ?? "");
        }
    }

    private int NextServiceIp() => ++_serviceIpCounter;

    private ApiResult Create(RequestInfo info, string? contentType, string? body)
    {
        var rt = info.Type!;
        var obj = ParseObject(contentType, body);
        if (info.Subresource is not null || info.Name is not null)
        {
            throw ApiException.MethodNotAllowed();
        }

        return new ApiResult(201, CreateObject(rt, obj, info.Namespace, info.DryRun));
    }

    /// <summary>Creates an object as the API would (defaults, validation, metadata). Returns a clone.</summary>
    public JsonObject CreateObject(ResourceType rt, JsonObject obj, string? urlNamespace, bool dryRun)
    {
        CheckKind(rt, obj);
        var meta = J.Meta(obj);
        if (string.IsNullOrEmpty(J.Str(meta, "name")) && J.Str(meta, "generateName") is { Length: > 0 } gen)
        {
            meta["name"] = gen + J.RandomSuffix(dryRun ? new Random() : _core.Store.Random);
        }

        CheckNamespace(rt, obj, rt.Plural == "namespaces" ? null : urlNamespace);
        if (rt.HasStatus && !rt.IsCustom && rt.Plural is not ("namespaces" or "services"))
        {
            obj.Remove("status");
        }

        if (rt.Plural == "pods")
        {
            obj["status"] = new JsonObject { ["phase"] = "Pending" };
        }

        Defaults.Apply(rt, obj, NextServiceIp);
        Defaults.Validate(rt, obj, null);
        var name = J.Name(obj);
        if (_core.Store.Get(rt, J.Namespace(obj), name) is not null)
        {
            throw ApiException.AlreadyExists(rt, name);
        }

        _core.Store.PrepareCreate(rt, obj, dryRun);
        if (rt.Plural == "pods")
        {
            _core.Controllers.AssignNode(obj);
            ((JsonObject)obj["status"]!)["qosClass"] = Controllers.QosClass(J.Obj(obj, "spec"));
        }

        if (dryRun)
        {
            return obj;
        }

        return J.Clone(_core.Store.Create(rt, obj));
    }

    private ApiResult Update(RequestInfo info, string? contentType, string? body)
    {
        var obj = ParseObject(contentType, body);
        var existing = Existing(info);
        if (info.Subresource == "scale")
        {
            return new ApiResult(200, UpdateScale(info, existing, obj));
        }

        var bodyName = J.Str(obj, "metadata", "name");
        if (bodyName is not null && bodyName != info.Name)
        {
            throw ApiException.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({info.Name})");
        }

        return new ApiResult(200, Replace(info, existing, obj));
    }

    private JsonObject UpdateScale(RequestInfo info, JsonObject existing, JsonObject scale)
    {
        var rt = info.Type!;
        var rv = J.Str(scale, "metadata", "resourceVersion");
        if (!string.IsNullOrEmpty(rv) && rv != J.Str(existing, "metadata", "resourceVersion"))
        {
            throw ApiException.Conflict(rt, info.Name!);
        }

        var replicas = J.Num(scale, "spec", "replicas") ?? 0;
        if (replicas < 0)
        {
            throw ApiException.Invalid(new ResourceType("autoscaling", "v1", "scale", "scale", "Scale", true, [], []), info.Name!, [("spec.replicas", $"Invalid value: {J.Fmt(replicas)}: must be greater than or equal to 0")]);
        }

        var updated = J.Clone(existing);
        J.Obj(updated, "spec")["replicas"] = (long)replicas;
        ObjectStore.PrepareUpdate(rt, existing, updated);
        if (info.DryRun)
        {
            return ScaleOf(updated);
        }

        return ScaleOf(_core.Store.Update(rt, updated));
    }

    /// <summary>PUT semantics (also used after patching): preconditions, status handling, defaults, validation.</summary>
    private JsonObject Replace(RequestInfo info, JsonObject existing, JsonObject obj)
    {
        var rt = info.Type!;
        var rv = J.Str(obj, "metadata", "resourceVersion");
        if (!string.IsNullOrEmpty(rv) && rv != J.Str(existing, "metadata", "resourceVersion"))
        {
            throw ApiException.Conflict(rt, info.Name!);
        }

        CheckKind(rt, obj);
        JsonObject updated;
        if (info.Subresource == "status")
        {
            updated = J.Clone(existing);
            if (obj["status"] is { } st)
            {
                updated["status"] = st.DeepClone();
            }
            else
            {
                updated.Remove("status");
            }
        }
        else
        {
            updated = J.Clone(obj);
            if (rt.HasStatus && rt.Plural is not ("services" or "namespaces"))
            {
                if (existing["status"] is { } st)
                {
                    updated["status"] = st.DeepClone();
                }
                else
                {
                    updated.Remove("status");
                }
            }

            if (rt.Plural == "pods" && J.Str(existing, "spec", "nodeName") is { } node)
            {
                J.Obj(updated, "spec")["nodeName"] = node;
            }
        }

        J.Meta(updated)["namespace"] = J.Str(existing, "metadata", "namespace");
        if (!rt.Namespaced)
        {
            J.Meta(updated).Remove("namespace");
        }

        Defaults.Apply(rt, updated, NextServiceIp);
        Defaults.Validate(rt, updated, existing);
        ObjectStore.PrepareUpdate(rt, existing, updated);
        if (info.DryRun)
        {
            return updated;
        }

        return J.Clone(_core.Store.Update(rt, updated));
    }

    /// <summary>Replaces a stored object through the regular update path (used by the scenario loader).</summary>
    public JsonObject ReplaceObject(ResourceType rt, JsonObject existing, JsonObject updated) =>
        Replace(new RequestInfo(true, "update", rt.Group, rt.Version, rt, rt.Plural, null, J.Namespace(existing), J.Name(existing), false), existing, updated);

    private static string MediaType(string? contentType) => (contentType ?? "").Split(';')[0].Trim().ToLowerInvariant();

    private ApiResult Patch(RequestInfo info, IQueryCollection query, string? contentType, string? body)
    {
        var rt = info.Type!;
        var media = MediaType(contentType);
        if (media is not ("application/json-patch+json" or "application/merge-patch+json" or "application/strategic-merge-patch+json" or "application/apply-patch+yaml" or "application/apply-patch+cbor"))
        {
            throw ApiException.UnsupportedMediaType(contentType ?? "");
        }

        if (media == "application/strategic-merge-patch+json" && rt.IsCustom)
        {
            throw new ApiException(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
        }

        if (string.IsNullOrWhiteSpace(body))
        {
            throw ApiException.BadRequest("the request body is empty");
        }

        var existing = _core.Store.Get(rt, info.Namespace, info.Name ?? "");
        if (media == "application/apply-patch+yaml")
        {
            JsonObject applied;
            try
            {
                applied = YamlJson.ParseJsonOrYaml(body) as JsonObject ?? throw ApiException.BadRequest("error decoding YAML: expected an object");
            }
            catch (YamlException ex)
            {
                throw ApiException.BadRequest($"error decoding YAML: {ex.Message}");
            }
            catch (JsonException ex)
            {
                throw ApiException.BadRequest($"error decoding YAML: {ex.Message}");
            }

            if (!query.ContainsKey("fieldManager"))
            {
                throw ApiException.BadRequest("PATCH requests of type apply must specify fieldManager");
            }

            if (existing is null)
            {
                if (info.Subresource is not null)
                {
                    throw ApiException.NotFound(rt, info.Name ?? "");
                }

                if (J.Str(applied, "metadata", "name") is { } n && n != info.Name)
                {
                    throw ApiException.BadRequest($"the name of the object ({n}) does not match the name on the URL ({info.Name})");
                }

                J.Meta(applied)["name"] = info.Name;
                return new ApiResult(201, CreateObject(rt, applied, info.Namespace, info.DryRun));
            }

            var baseObj = info.Subresource == "scale" ? ScaleOf(existing) : J.Clone(existing);
            var merged = (JsonObject)Patches.StrategicMerge(baseObj, applied)!;
            return PatchResult(info, existing, merged);
        }

        if (existing is null)
        {
            throw ApiException.NotFound(rt, info.Name ?? "");
        }

        var patch = Patches.ParseBody(body);
        var target = info.Subresource == "scale" ? ScaleOf(existing) : J.Clone(existing);
        var patched = media switch
        {
            "application/json-patch+json" => Patches.ApplyJsonPatch(target, patch),
            "application/merge-patch+json" => patch is JsonObject ? Patches.MergePatch(target, patch) : throw ApiException.BadRequest("error decoding patch: expected a JSON object"),
            _ => patch is JsonObject ? Patches.StrategicMerge(target, patch) : throw ApiException.BadRequest("error decoding patch: expected a JSON object"),
        };
        if (patched is not JsonObject patchedObj)
        {
            throw new ApiException(422, "Invalid", "the patch produced a value that is not an object");
        }

        return PatchResult(info, existing, patchedObj);
    }

    private ApiResult PatchResult(RequestInfo info, JsonObject existing, JsonObject patched)
    {
        if (info.Subresource == "scale")
        {
            return new ApiResult(200, UpdateScale(info, existing, patched));
        }

        var name = J.Str(patched, "metadata", "name");
        if (name != info.Name)
        {
            throw ApiException.Invalid(info.Type!, info.Name ?? "", [("metadata.name", $"Invalid value: \"{name}\": field is immutable")]);
        }

        return new ApiResult(200, Replace(info, existing, patched));
    }

    private ApiResult Delete(RequestInfo info, IQueryCollection query, string? body)
    {
        var rt = info.Type!;
        var existing = Existing(info);
        JsonObject? options = null;
        if (!string.IsNullOrWhiteSpace(body))
        {
            try
            {
                options = J.Parse(body) as JsonObject;
            }
            catch (JsonException ex)
            {
                throw ApiException.BadRequest($"invalid DeleteOptions: {ex.Message}");
            }
        }

        var preUid = J.Str(options, "preconditions", "uid");
        if (preUid is not null && preUid != J.Uid(existing))
        {
            throw new ApiException(409, "Conflict", $"Operation cannot be fulfilled on {rt.QualifiedName} \"{info.Name}\": Precondition failed: UID in precondition: {preUid}, UID in object meta: {J.Uid(existing)}");
        }

        var preRv = J.Str(options, "preconditions", "resourceVersion");
        if (preRv is not null && preRv != J.Str(existing, "metadata", "resourceVersion"))
        {
            throw new ApiException(409, "Conflict", $"Operation cannot be fulfilled on {rt.QualifiedName} \"{info.Name}\": Precondition failed: ResourceVersion in precondition: {preRv}, ResourceVersion in object meta: {J.Str(existing, "metadata", "resourceVersion")}");
        }

        var policy = J.Str(options, "propagationPolicy") ?? (query.TryGetValue("propagationPolicy", out var pp) ? pp.ToString() : null);
        if (J.Bool(options, "orphanDependents") == true)
        {
            policy = "Orphan";
        }

        var result = J.Clone(existing);
        if (!info.DryRun)
        {
            DeleteObject(rt, existing, policy == "Orphan");
        }

        if (rt.Plural == "pods" || rt.IsCustom || rt.Plural == "namespaces")
        {
            if (rt.Plural is "pods" or "namespaces")
            {
                J.Meta(result)["deletionTimestamp"] = J.Time(_core.Now);
                if (rt.Plural == "pods")
                {
                    J.Meta(result)["deletionGracePeriodSeconds"] = J.Long(options, "gracePeriodSeconds") ?? J.Long(existing, "spec", "terminationGracePeriodSeconds") ?? 30;
                }

                if (rt.Plural == "namespaces")
                {
                    J.Obj(result, "status")["phase"] = "Terminating";
                }
            }

            return new ApiResult(200, result);
        }

        var details = new JsonObject { ["name"] = info.Name, ["kind"] = rt.Plural, ["uid"] = J.Uid(existing) };
        if (rt.Group != "")
        {
            details["group"] = rt.Group;
        }

        return new ApiResult(200, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = details,
        });
    }

    private void DeleteObject(ResourceType rt, JsonObject existing, bool orphan)
    {
        var deleted = _core.Store.Delete(rt, J.Namespace(existing), J.Name(existing));
        if (deleted is null)
        {
            return;
        }

        if (rt.Plural == "namespaces")
        {
            foreach (var (type, obj) in _core.Store.All())
            {
                if (type.Namespaced && J.Namespace(obj) == J.Name(existing))
                {
                    _core.Store.Delete(type, J.Namespace(obj), J.Name(obj));
                }
            }

            return;
        }

        _core.Controllers.HandleOwnerDeleted(deleted, orphan);
    }

    private ApiResult DeleteCollection(RequestInfo info, IQueryCollection query)
    {
        var rt = info.Type!;
        var labels = LabelSelector.Parse(query.TryGetValue("labelSelector", out var ls) ? ls.ToString() : null);
        var fields = FieldSelector.Parse(query.TryGetValue("fieldSelector", out var fs) ? fs.ToString() : null);
        var items = new JsonArray();
        foreach (var o in _core.Store.List(rt, info.Namespace).Where(o => labels.Matches(o) && fields.Matches(o)).ToList())
        {
            items.Add(J.Clone(o));
            if (!info.DryRun)
            {
                DeleteObject(rt, o, orphan: false);
            }
        }

        return new ApiResult(200, new JsonObject
        {
            ["kind"] = rt.ListKind,
            ["apiVersion"] = rt.ApiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = _core.Store.ResourceVersion.ToString(CultureInfo.InvariantCulture) },
            ["items"] = items,
        });
    }

    // ------------------------------------------------------------------ watch

    private async Task WatchAsync(HttpContext ctx, RequestInfo info, Action<int> record)
    {
        var query = ctx.Request.Query;
        var rt = info.Type!;
        var labels = LabelSelector.Parse(query.TryGetValue("labelSelector", out var ls) ? ls.ToString() : null);
        var fields = FieldSelector.Parse(query.TryGetValue("fieldSelector", out var fs) ? fs.ToString() : null);
        var rvText = query.TryGetValue("resourceVersion", out var rvq) ? rvq.ToString() : "";
        var initialEvents = query.TryGetValue("sendInitialEvents", out var sie) && sie.ToString() == "true";
        long? since = null;
        if (!initialEvents && rvText is not ("" or "0"))
        {
            if (!long.TryParse(rvText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
            {
                throw ApiException.BadRequest($"invalid resource version: {rvText}");
            }

            since = parsed;
        }

        Watcher watcher;
        lock (_core.Gate)
        {
            watcher = _core.Store.Subscribe(rt, info.Namespace, labels, fields, since, initialEvents);
        }

        try
        {
            record(200);
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.StartAsync(ctx.RequestAborted).ConfigureAwait(false);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
            using var timeout = query.TryGetValue("timeoutSeconds", out var ts) && int.TryParse(ts.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var secs) && secs > 0
                ? new CancellationTokenSource(TimeSpan.FromSeconds(secs), _core.Options.TimeProvider)
                : new CancellationTokenSource();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, ctx.RequestAborted, _stopping);
            var ended = false;
            try
            {
                await foreach (var line in watcher.Lines.Reader.ReadAllAsync(linked.Token).ConfigureAwait(false))
                {
                    await ctx.Response.WriteAsync(line, linked.Token).ConfigureAwait(false);
                    await ctx.Response.Body.FlushAsync(linked.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                ended = true;
            }
            catch (IOException)
            {
                ended = true;
            }

            _ = ended;
        }
        finally
        {
            watcher.Close();
        }
    }
}
