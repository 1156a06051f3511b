using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Remediation.ClusterSimulator.Json;

namespace Remediation.ClusterSimulator.Api;

/// <summary>A change to a stored object; New is null for a deletion (Old then carries the final state).</summary>
internal sealed record StoreEvent(long ResourceVersion, ResourceType Type, string Namespace, JsonObject? Old, JsonObject? New);

/// <summary>One open watch.</summary>
internal sealed class Watcher
{
    private readonly ObjectStore _store;

    public Watcher(ObjectStore store, ResourceType type, string? ns, LabelSelector labels, FieldSelector fields)
    {
        _store = store;
        Type = type;
        Namespace = ns;
        Labels = labels;
        Fields = fields;
    }

    public ResourceType Type { get; }

    public string? Namespace { get; }

    public LabelSelector Labels { get; }

    public FieldSelector Fields { get; }

    public Channel<string> Lines { get; } = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

    public bool Matches(JsonObject? o) => o is not null && Labels.Matches(o) && Fields.Matches(o);

    public void Offer(StoreEvent e)
    {
        if (e.Type != Type || (Namespace is not null && e.Namespace != Namespace))
        {
            return;
        }

        var oldMatch = Matches(e.Old);
        var newMatch = Matches(e.New);
        string type;
        JsonObject obj;
        if (e.New is null)
        {
            if (!oldMatch)
            {
                return;
            }

            type = "DELETED";
            obj = e.Old!;
        }
        else if (e.Old is null)
        {
            if (!newMatch)
            {
                return;
            }

            type = "ADDED";
            obj = e.New;
        }
        else if (oldMatch && newMatch)
        {
            type = "MODIFIED";
            obj = e.New;
        }
        else if (newMatch)
        {
            type = "ADDED";
            obj = e.New;
        }
        else if (oldMatch)
        {
            type = "DELETED";
            obj = e.New;
        }
        else
        {
            return;
        }

        Send(type, obj);
    }

    public void Send(string type, JsonObject obj)
    {
        var line = "{\"type\":\"" + type + "\",\"object\":" + obj.ToJsonString(J.Compact) + "}\n";
        Lines.Writer.TryWrite(line);
    }

    public void Close()
    {
        Lines.Writer.TryComplete();
        _store.Unsubscribe(this);
    }
}

/// <summary>The object store. Not thread-safe: callers hold the cluster gate.</summary>
internal sealed class ObjectStore
{
    private const int HistoryLimit = 20000;
    private readonly Dictionary<string, JsonObject> _objects = new(StringComparer.Ordinal);

    // Keys in order (lists read a range, not a sort of every object) and, per controlling owner's uid, its dependents' keys:
    // at 1,000 workloads the controller loop sorted the whole store per list and rebuilt its owner index after every write.
    private readonly SortedSet<string> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<string>> _byController = new(StringComparer.Ordinal);

    // Per namespace and type, the keys of objects carrying a label (l:key=value) or naming an involved object (an event's
    // f:involvedObject.name=name): a list by an equality selector reads those, as the product's lists at 1,000 workloads
    // each scanned every pod or event of the namespace.
    private readonly Dictionary<string, SortedSet<string>> _byFact = new(StringComparer.Ordinal);
    private readonly LinkedList<StoreEvent> _history = new();
    private readonly List<Watcher> _watchers = [];
    private readonly object _watchersLock = new();
    private readonly Random _random;
    private readonly Func<DateTimeOffset> _now;
    private long _rv;

    public ObjectStore(int seed, Func<DateTimeOffset> now)
    {
        _random = new Random(seed);
        _now = now;
        _rv = 1000;
    }

    public long ResourceVersion => _rv;

    public Random Random => _random;

    public event Action<StoreEvent>? Changed;

    private static string Key(ResourceType rt, string ns, string name) => $"{rt.Plural}/{ns}/{name}";

    public JsonObject? Get(ResourceType rt, string? ns, string name) =>
        _objects.TryGetValue(Key(rt, rt.Namespaced ? ns ?? "" : "", name), out var o) ? o : null;

    public List<JsonObject> List(ResourceType rt, string? ns = null)
    {
        var prefix = Prefix(rt, ns);
        return [.. _keys.GetViewBetween(prefix, prefix + char.MaxValue).Select(k => _objects[k])];
    }

    /// <summary>
    /// The objects of <paramref name="rt"/> in <paramref name="ns"/>, in key order, narrowed to those carrying every one of
    /// <paramref name="facts"/> that the store indexes (<see cref="LabelFact"/>, <see cref="InvolvedObjectFact"/>); the
    /// caller still applies its whole selector. Without a namespace or a fact, every object of the type.
    /// </summary>
    public List<JsonObject> List(ResourceType rt, string? ns, IReadOnlyCollection<string> facts)
    {
        if (!rt.Namespaced || ns is null || facts.Count == 0)
        {
            return List(rt, ns);
        }
        var prefix = Prefix(rt, ns);
        SortedSet<string>? smallest = null;
        foreach (var fact in facts)
        {
            if (!_byFact.TryGetValue(prefix + fact, out var keys))
            {
                return [];
            }
            if (smallest is null || keys.Count < smallest.Count)
            {
                smallest = keys;
            }
        }
        return [.. smallest!.Select(k => _objects[k])];
    }

    public static string LabelFact(string key, string value) => $"l:{key}={value}";

    public static string InvolvedObjectFact(string name) => "f:involvedObject.name=" + name;

    private static IEnumerable<string> Facts(JsonObject o)
    {
        if (J.At(o, "metadata", "labels") is JsonObject labels)
        {
            foreach (var (k, v) in labels)
            {
                if (v is JsonValue value && value.TryGetValue<string>(out var text))
                {
                    yield return LabelFact(k, text);
                }
            }
        }
        if (J.Str(o, "involvedObject", "name") is { } involved)
        {
            yield return InvolvedObjectFact(involved);
        }
    }

    private void IndexFacts(string key, JsonObject? old, JsonObject? updated)
    {
        var scope = key[..(key.LastIndexOf('/') + 1)];
        var (was, now) = (old is null ? [] : Facts(old).ToHashSet(StringComparer.Ordinal), updated is null ? [] : Facts(updated).ToHashSet(StringComparer.Ordinal));
        foreach (var fact in was.Where(f => !now.Contains(f)))
        {
            RemoveFrom(_byFact, scope + fact, key);
        }
        foreach (var fact in now.Where(f => !was.Contains(f)))
        {
            AddTo(_byFact, scope + fact, key);
        }
    }

    /// <summary>Files <paramref name="key"/> under <paramref name="entry"/> of an index.</summary>
    private static void AddTo(Dictionary<string, SortedSet<string>> index, string entry, string key)
    {
        if (!index.TryGetValue(entry, out var keys))
        {
            index[entry] = keys = new SortedSet<string>(StringComparer.Ordinal);
        }
        keys.Add(key);
    }

    /// <summary>Takes <paramref name="key"/> out of <paramref name="entry"/> of an index (an entry left empty goes).</summary>
    private static void RemoveFrom(Dictionary<string, SortedSet<string>> index, string entry, string key)
    {
        if (index.TryGetValue(entry, out var keys) && keys.Remove(key) && keys.Count == 0)
        {
            index.Remove(entry);
        }
    }

    /// <summary>The objects of <paramref name="rt"/> in <paramref name="ns"/> whose controlling owner is <paramref name="ownerUid"/>, in key order.</summary>
    public List<JsonObject> ControlledBy(ResourceType rt, string? ns, string ownerUid)
    {
        if (!_byController.TryGetValue(ownerUid, out var keys))
        {
            return [];
        }
        var prefix = Prefix(rt, ns);
        return [.. keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Select(k => _objects[k])];
    }

    public List<(ResourceType Type, JsonObject Object)> All() =>
        [.. _keys.Select(k => (Resources.ByPlural(k[..k.IndexOf('/', StringComparison.Ordinal)])!, _objects[k]))];

    private static string Prefix(ResourceType rt, string? ns) => rt.Namespaced && ns is not null ? $"{rt.Plural}/{ns}/" : rt.Plural + "/";

    private static string? ControllerUid(JsonObject obj)
    {
        if (J.At(obj, "metadata", "ownerReferences") is JsonArray refs)
        {
            foreach (var r in refs)
            {
                if (J.Bool(r, "controller") == true)
                {
                    return J.Str(r, "uid");
                }
            }
        }

        return null;
    }

    /// <summary>Keeps the key set and the owner index in step with a change of <paramref name="key"/>.</summary>
    private void Index(string key, JsonObject? old, JsonObject? updated)
    {
        IndexFacts(key, old, updated);
        var (was, now) = (old is null ? null : ControllerUid(old), updated is null ? null : ControllerUid(updated));
        if (old is null)
        {
            _keys.Add(key);
        }
        else if (updated is null)
        {
            _keys.Remove(key);
        }
        if (was == now)
        {
            return;
        }
        if (was is not null)
        {
            RemoveFrom(_byController, was, key);
        }
        if (now is not null)
        {
            AddTo(_byController, now, key);
        }
    }

    public string NewUid()
    {
        var bytes = new byte[16];
        _random.NextBytes(bytes);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        var hex = Convert.ToHexString(bytes).ToLowerInvariant();
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }

    /// <summary>Fills server-set metadata for a new object (uid, creationTimestamp, generation, resourceVersion) without storing.</summary>
    public void PrepareCreate(ResourceType rt, JsonObject obj, bool dryRun)
    {
        var meta = J.Meta(obj);
        meta["uid"] = dryRun ? Guid.NewGuid().ToString() : NewUid();
        meta["creationTimestamp"] = J.Time(_now());
        if (rt.HasGeneration)
        {
            meta["generation"] = 1;
        }

        meta.Remove("resourceVersion");
        meta.Remove("deletionTimestamp");
        meta.Remove("managedFields");
        if (!rt.Namespaced)
        {
            meta.Remove("namespace");
        }
    }

    /// <summary>Stores a new object (already prepared); returns the stored instance (callers must clone before handing out).</summary>
    public JsonObject Create(ResourceType rt, JsonObject obj)
    {
        var meta = J.Meta(obj);
        meta["resourceVersion"] = Next();
        var ns = rt.Namespaced ? J.Namespace(obj) : "";
        var key = Key(rt, ns, J.Name(obj));
        _objects.TryGetValue(key, out var replaced);
        _objects[key] = obj;
        Index(key, replaced, obj);
        Publish(new StoreEvent(_rv, rt, ns, null, obj));
        return obj;
    }

    /// <summary>Computes server-set metadata for an update (keeps identity, bumps generation on spec change) without storing.</summary>
    public static void PrepareUpdate(ResourceType rt, JsonObject old, JsonObject updated)
    {
        var meta = J.Meta(updated);
        var oldMeta = J.Meta(old);
        foreach (var key in new[] { "uid", "creationTimestamp", "namespace", "name", "deletionTimestamp" })
        {
            if (oldMeta[key] is { } v)
            {
                meta[key] = v.DeepClone();
            }
            else
            {
                meta.Remove(key);
            }
        }

        meta["resourceVersion"] = oldMeta["resourceVersion"]?.DeepClone();
        meta.Remove("managedFields");
        if (rt.HasGeneration)
        {
            var gen = J.Long(old, "metadata", "generation") ?? 1;
            if (!J.Same(old["spec"], updated["spec"]) || (rt.IsCustom && !J.Same(Without(old, "status", "metadata"), Without(updated, "status", "metadata"))))
            {
                gen++;
            }

            meta["generation"] = gen;
        }
    }

    private static JsonObject Without(JsonObject o, params string[] keys)
    {
        var c = J.Clone(o);
        foreach (var k in keys)
        {
            c.Remove(k);
        }

        return c;
    }

    /// <summary>Stores an updated object (prepared with <see cref="PrepareUpdate"/>). No-op when nothing changed.</summary>
    public JsonObject Update(ResourceType rt, JsonObject updated)
    {
        var ns = rt.Namespaced ? J.Namespace(updated) : "";
        var key = Key(rt, ns, J.Name(updated));
        var old = _objects[key];
        J.Meta(updated)["resourceVersion"] = J.Str(old, "metadata", "resourceVersion");
        if (J.Same(old, updated))
        {
            return old;
        }

        J.Meta(updated)["resourceVersion"] = Next();
        _objects[key] = updated;
        Index(key, old, updated);
        Publish(new StoreEvent(_rv, rt, ns, old, updated));
        return updated;
    }

    public JsonObject? Delete(ResourceType rt, string? ns, string name)
    {
        var n = rt.Namespaced ? ns ?? "" : "";
        var key = Key(rt, n, name);
        if (!_objects.Remove(key, out var old))
        {
            return null;
        }
        Index(key, old, null);

        var final = J.Clone(old);
        J.Meta(final)["resourceVersion"] = Next();
        Publish(new StoreEvent(_rv, rt, n, old, null) with { Old = final });
        return final;
    }

    private string Next()
    {
        _rv++;
        return _rv.ToString(CultureInfo.InvariantCulture);
    }

    private void Publish(StoreEvent e)
    {
        _history.AddLast(e);
        if (_history.Count > HistoryLimit)
        {
            _history.RemoveFirst();
        }

        lock (_watchersLock)
        {
            foreach (var w in _watchers)
            {
                w.Offer(e);
            }
        }

        Changed?.Invoke(e);
    }

    /// <summary>Registers a watcher; replays history after <paramref name="sinceRv"/> (null = send current state as ADDED).</summary>
    public Watcher Subscribe(ResourceType rt, string? ns, LabelSelector labels, FieldSelector fields, long? sinceRv, bool initialBookmark)
    {
        var w = new Watcher(this, rt, rt.Namespaced ? ns : null, labels, fields);
        if (sinceRv is null)
        {
            foreach (var o in List(rt, w.Namespace).Where(w.Matches))
            {
                w.Send("ADDED", o);
            }

            if (initialBookmark)
            {
                var bookmark = new JsonObject
                {
                    ["kind"] = rt.Kind,
                    ["apiVersion"] = rt.ApiVersion,
                    ["metadata"] = new JsonObject
                    {
                        ["resourceVersion"] = _rv.ToString(CultureInfo.InvariantCulture),
                        ["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" },
                    },
                };
                w.Send("BOOKMARK", bookmark);
            }
        }
        else
        {
            var oldest = _history.First?.Value.ResourceVersion ?? _rv + 1;
            if (sinceRv.Value < oldest - 1 && sinceRv.Value < _rv)
            {
                throw new ApiException(410, "Expired", $"too old resource version: {sinceRv.Value} ({oldest - 1})");
            }

            foreach (var e in _history.Where(e => e.ResourceVersion > sinceRv.Value))
            {
                w.Offer(e);
            }
        }

        lock (_watchersLock)
        {
            _watchers.Add(w);
        }

        return w;
    }

    public void Unsubscribe(Watcher w)
    {
        lock (_watchersLock)
        {
            _watchers.Remove(w);
        }
    }

    public void CloseAllWatchers()
    {
        List<Watcher> all;
        lock (_watchersLock)
        {
            all = [.. _watchers];
        }

        foreach (var w in all)
        {
            w.Close();
        }
    }
}
