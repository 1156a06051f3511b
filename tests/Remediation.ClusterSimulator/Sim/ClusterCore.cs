using System.Globalization;
using System.Text.Json.Nodes;
using Remediation.ClusterSimulator.Api;
using Remediation.ClusterSimulator.Json;

namespace Remediation.ClusterSimulator.Sim;

/// <summary>Shared state of one simulated cluster. Everything here runs under <see cref="Gate"/>.</summary>
internal sealed class ClusterCore
{
    public ClusterCore(SimulatorOptions options)
    {
        Options = options;
        Store = new ObjectStore(options.Seed, () => Now);
        Controllers = new Controllers(this);
        Metrics = new TrafficMetrics(this);
    }

    public object Gate { get; } = new();

    private int _apiWaiting;

    /// <summary>API requests waiting for <see cref="Gate"/> now: the controller loop lets them in between objects.</summary>
    public int ApiWaiting => Volatile.Read(ref _apiWaiting);

    /// <summary>An API request starts waiting for <see cref="Gate"/> (<see cref="ApiEntered"/> once it holds it).</summary>
    public void ApiArriving() => Interlocked.Increment(ref _apiWaiting);

    public void ApiEntered() => Interlocked.Decrement(ref _apiWaiting);

    /// <summary>How long API requests waited for <see cref="Gate"/> and how long the controller loop held it (updated under it).</summary>
    public GateStatistics GateStats { get; } = new();

    public SimulatorOptions Options { get; }

    public ObjectStore Store { get; }

    public Controllers Controllers { get; }

    public TrafficMetrics Metrics { get; }

    public Dictionary<string, ImageBehaviour> Behaviours { get; } = new(StringComparer.Ordinal);

    public List<TrafficSpec> Traffic { get; } = [];

    public List<CallSpec> Calls { get; } = [];

    /// <summary>Set while a scenario is replayed in the past.</summary>
    public DateTimeOffset? NowOverride { get; set; }

    public DateTimeOffset Now => NowOverride ?? Options.TimeProvider.GetUtcNow();

    public ImageBehaviour BehaviourFor(string? image)
    {
        if (image is null)
        {
            return ImageBehaviour.Healthy;
        }

        if (Behaviours.TryGetValue(image, out var b))
        {
            return b;
        }

        foreach (var (pattern, behaviour) in Behaviours)
        {
            if (pattern.EndsWith('*') && image.StartsWith(pattern[..^1], StringComparison.Ordinal))
            {
                return behaviour;
            }
        }

        return ImageBehaviour.Healthy;
    }

    /// <summary>Creates an object as a controller would (server metadata filled in).</summary>
    public JsonObject Create(ResourceType rt, JsonObject obj)
    {
        Store.PrepareCreate(rt, obj, dryRun: false);
        return Store.Create(rt, obj);
    }

    /// <summary>Writes a modified copy of a stored object; no-op when unchanged.</summary>
    public JsonObject Put(ResourceType rt, JsonObject old, JsonObject updated)
    {
        ObjectStore.PrepareUpdate(rt, old, updated);
        return Store.Update(rt, updated);
    }

    public static JsonObject OwnerRef(ResourceType rt, JsonObject owner) => new()
    {
        ["apiVersion"] = rt.ApiVersion,
        ["kind"] = rt.Kind,
        ["name"] = J.Name(owner),
        ["uid"] = J.Uid(owner),
        ["controller"] = true,
        ["blockOwnerDeletion"] = true,
    };

    /// <summary>Creates or refreshes a core/v1 Event (deterministic name per involved object + key).</summary>
    public void EnsureEvent(
        ResourceType involvedType,
        JsonObject involved,
        string type,
        string reason,
        string message,
        int count,
        DateTimeOffset first,
        DateTimeOffset last,
        string component,
        string? host = null,
        string? fieldPath = null,
        string? key = null)
    {
        var ns = J.Namespace(involved);
        if (Store.Get(Resources.Namespaces, null, ns) is null)
        {
            return;
        }

        var h1 = J.Fnv32(J.Uid(involved) + "|" + (key ?? reason + "|" + message));
        var h2 = J.Fnv32((key ?? reason + "|" + message) + "|" + J.Name(involved));
        var name = $"{J.Name(involved)}.{h1:x8}{h2:x8}";
        var existing = Store.Get(Resources.Events, ns, name);
        if (existing is not null && J.Long(existing, "count") == count && J.Str(existing, "message") == message)
        {
            return;
        }

        var involvedRef = new JsonObject
        {
            ["kind"] = involvedType.Kind,
            ["namespace"] = ns,
            ["name"] = J.Name(involved),
            ["uid"] = J.Uid(involved),
            ["apiVersion"] = involvedType.ApiVersion,
        };
        if (fieldPath is not null)
        {
            involvedRef["fieldPath"] = fieldPath;
        }

        var source = new JsonObject { ["component"] = component };
        if (host is not null)
        {
            source["host"] = host;
        }

        if (existing is not null)
        {
            var updated = J.Clone(existing);
            updated["count"] = count;
            updated["message"] = message;
            updated["lastTimestamp"] = J.Time(last);
            Put(Resources.Events, existing, updated);
            return;
        }

        var ev = new JsonObject
        {
            ["kind"] = "Event",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["involvedObject"] = involvedRef,
            ["reason"] = reason,
            ["message"] = message,
            ["source"] = source,
            ["firstTimestamp"] = J.Time(first),
            ["lastTimestamp"] = J.Time(last),
            ["count"] = count,
            ["type"] = type,
            ["eventTime"] = null,
            ["reportingComponent"] = component,
            ["reportingInstance"] = host ?? "",
        };
        Create(Resources.Events, ev);
    }

    public static string Int(long v) => v.ToString(CultureInfo.InvariantCulture);
}
