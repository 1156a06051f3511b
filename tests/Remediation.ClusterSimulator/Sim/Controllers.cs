using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Remediation.ClusterSimulator.Api;
using Remediation.ClusterSimulator.Json;

namespace Remediation.ClusterSimulator.Sim;

/// <summary>Deployment, ReplicaSet, garbage-collector and kubelet simulation. Call under the gate.</summary>
internal sealed class Controllers
{
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    public const string RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history";
    public const string DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
    public const string MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";
    public const string HashLabel = "pod-template-hash";
    private const int NodeCount = 3;

    private static readonly HashSet<string> AnnotationsNotCopied = new(StringComparer.Ordinal)
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        RevisionAnnotation,
        RevisionHistoryAnnotation,
        DesiredReplicasAnnotation,
        MaxReplicasAnnotation,
        "deprecated.deployment.rollback.to",
    };

    private readonly ClusterCore _core;
    private int _podCounter;

    public Controllers(ClusterCore core) => _core = core;

    private ObjectStore Store => _core.Store;

    private DateTimeOffset Now => _core.Now;

    private const int RoundsWithWritesLetIn = 4;

    /// <summary>
    /// Reconciles the whole cluster until nothing changes (at most 30 rounds). <paramref name="between"/>, when given, runs
    /// before each object (the controller loop lets waiting API requests in there, as a real API server answers them while
    /// its controllers work); each object is then read again before it is synced, as API writes may have changed or removed it.
    /// </summary>
    public void Reconcile(Action? between = null)
    {
        // Writes made by API requests while the loop let them in are the next pass's work: once some came in, the pass
        // ends after a few rounds (a rollout's steps), or a steady stream of writes would keep it going round the whole
        // cluster (each round lists every object: measured, passes held the lock twice as long, GC ran six times as often).
        long theirs = 0;
        var letIn = between is null ? null : new Action(() =>
        {
            var version = Store.ResourceVersion;
            between();
            theirs += Store.ResourceVersion - version;
        });
        for (var i = 0; i < 30 && (theirs == 0 || i < RoundsWithWritesLetIn); i++)
        {
            var (before, theirsBefore) = (Store.ResourceVersion, theirs);
            CollectGarbage();
            foreach (var pod in Store.List(Resources.Pods))
            {
                if (Current(Resources.Pods, pod, letIn) is { } live)
                {
                    SyncPod(live);
                }
            }

            foreach (var rs in Store.List(Resources.ReplicaSets))
            {
                if (Current(Resources.ReplicaSets, rs, letIn) is { } live)
                {
                    SyncReplicaSet(live);
                }
            }

            foreach (var d in Store.List(Resources.Deployments))
            {
                if (Current(Resources.Deployments, d, letIn) is { } live)
                {
                    SyncDeployment(live);
                }
            }

            if (Store.ResourceVersion - (theirs - theirsBefore) == before)
            {
                return;
            }
        }
    }

    /// <summary>The object as stored now, after <paramref name="between"/> let others in; the listed one itself without it.</summary>
    private JsonObject? Current(ResourceType rt, JsonObject listed, Action? between)
    {
        if (between is null)
        {
            return listed;
        }
        between();
        return Store.Get(rt, J.Namespace(listed), J.Name(listed));
    }

    // ------------------------------------------------------------------ garbage collector

    private void CollectGarbage()
    {
        foreach (var (type, obj) in Store.All())
        {
            if (J.At(obj, "metadata", "ownerReferences") is not JsonArray refs || refs.Count == 0)
            {
                continue;
            }

            var anyAlive = false;
            foreach (var r in refs)
            {
                var ownerType = Resources.ByKind(J.Str(r, "apiVersion") ?? "", J.Str(r, "kind") ?? "");
                var owner = ownerType is null ? null : Store.Get(ownerType, J.Namespace(obj), J.Str(r, "name") ?? "");
                if (owner is not null && J.Uid(owner) == J.Str(r, "uid"))
                {
                    anyAlive = true;
                }
            }

            if (!anyAlive)
            {
                Store.Delete(type, J.Namespace(obj), J.Name(obj));
            }
        }
    }

    /// <summary>Deletes dependents of a deleted owner (background propagation) or orphans them.</summary>
    public void HandleOwnerDeleted(JsonObject owner, bool orphan)
    {
        var uid = J.Uid(owner);
        foreach (var (type, obj) in Store.All())
        {
            if (J.At(obj, "metadata", "ownerReferences") is not JsonArray refs || !refs.Any(r => J.Str(r, "uid") == uid))
            {
                continue;
            }

            if (orphan)
            {
                var updated = J.Clone(obj);
                var newRefs = new JsonArray(refs.Where(r => J.Str(r, "uid") != uid).Select(r => r!.DeepClone()).ToArray());
                if (newRefs.Count == 0)
                {
                    J.Meta(updated).Remove("ownerReferences");
                }
                else
                {
                    J.Meta(updated)["ownerReferences"] = newRefs;
                }

                _core.Put(type, obj, updated);
            }
            else
            {
                var deleted = Store.Delete(type, J.Namespace(obj), J.Name(obj));
                if (deleted is not null)
                {
                    HandleOwnerDeleted(deleted, orphan: false);
                }
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    public static string TemplateHash(JsonNode? template)
    {
        var t = Normalize(template);
        var hash = J.Fnv32(J.Canonical(t));
        return J.SafeEncode(hash.ToString(CultureInfo.InvariantCulture));
    }

    private static JsonNode? Normalize(JsonNode? template)
    {
        if (template is not JsonObject o)
        {
            return template?.DeepClone();
        }

        var c = J.Clone(o);
        if (J.At(c, "metadata", "labels") is JsonObject labels)
        {
            labels.Remove(HashLabel);
            if (labels.Count == 0)
            {
                J.Meta(c).Remove("labels");
            }
        }

        if (c["metadata"] is JsonObject m)
        {
            m.Remove("creationTimestamp");
            if (m.Count == 0)
            {
                c.Remove("metadata");
            }
        }

        return c;
    }

    public static bool EqualIgnoreHash(JsonNode? a, JsonNode? b) => CanonicalIgnoreHash(a) == CanonicalIgnoreHash(b);

    // Stored objects are never changed in place (every write stores a new instance), so a template's canonical form can be
    // kept with the stored node: a pass compared each Deployment's template with each of its ReplicaSets' afresh.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<JsonNode, string> CanonicalForms = [];

    private static string CanonicalIgnoreHash(JsonNode? template) =>
        template is null ? J.Canonical(null) : CanonicalForms.GetValue(template, t => J.Canonical(Normalize(t)));

    public static long Revision(JsonObject obj) =>
        long.TryParse(J.Str(obj, "metadata", "annotations", RevisionAnnotation), NumberStyles.Integer, CultureInfo.InvariantCulture, out var r) ? r : 0;

    /// <summary>The objects of a type whose controller is <paramref name="owner"/>, in store order (the store keeps this index).</summary>
    private List<JsonObject> OwnedBy(ResourceType rt, JsonObject owner) =>
        J.Uid(owner) is { } ownerUid ? Store.ControlledBy(rt, J.Namespace(owner), ownerUid) : [];

    private static long SpecReplicas(JsonObject o) => J.Long(o, "spec", "replicas") ?? 1;

    private static long StatusInt(JsonObject o, string field) => J.Long(o, "status", field) ?? 0;

    private static int ResolveIntOrPercent(JsonNode? value, long total, bool roundUp, int fallbackPercent)
    {
        if (value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            return (int)J.Num(v)!.Value;
        }

        var s = (value as JsonValue)?.GetValueKind() == System.Text.Json.JsonValueKind.String ? value!.GetValue<string>() : fallbackPercent + "%";
        if (s.EndsWith('%') && double.TryParse(s[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var pct))
        {
            var raw = pct * total / 100.0;
            return (int)(roundUp ? Math.Ceiling(raw) : Math.Floor(raw));
        }

        return int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : 0;
    }

    public static (int Surge, int Unavailable) SurgeAndUnavailable(JsonObject d)
    {
        var replicas = SpecReplicas(d);
        if ((J.Str(d, "spec", "strategy", "type") ?? "RollingUpdate") != "RollingUpdate")
        {
            return (0, 0);
        }

        var ru = J.At(d, "spec", "strategy", "rollingUpdate");
        var surge = ResolveIntOrPercent(J.At(ru, "maxSurge"), replicas, true, 25);
        var unavailable = ResolveIntOrPercent(J.At(ru, "maxUnavailable"), replicas, false, 25);
        if (surge == 0 && unavailable == 0)
        {
            unavailable = 1;
        }

        return (surge, (int)Math.Min(unavailable, replicas));
    }

    // ------------------------------------------------------------------ deployment controller

    private void SyncDeployment(JsonObject d0)
    {
        var d = J.Clone(d0);
        var ns = J.Namespace(d);
        var replicas = SpecReplicas(d);
        var paused = J.Bool(d, "spec", "paused") == true;
        var template = J.At(d, "spec", "template");
        var rsList = OwnedBy(Resources.ReplicaSets, d);
        var newRs = rsList.Where(rs => EqualIgnoreHash(J.At(rs, "spec", "template"), J.At(d0, "spec", "template")))
            .OrderBy(rs => J.Str(rs, "metadata", "creationTimestamp"), StringComparer.Ordinal).FirstOrDefault();
        var maxRev = rsList.Count == 0 ? 0 : rsList.Max(Revision);
        var (surge, _) = SurgeAndUnavailable(d);
        string? createdNewRsName = null;

        if (newRs is null && !paused)
        {
            newRs = CreateReplicaSet(d, maxRev + 1, surge);
            createdNewRsName = J.Name(newRs);
            rsList.Add(newRs);
        }
        else if (newRs is not null)
        {
            newRs = SyncNewReplicaSetAnnotations(d, newRs, maxRev, surge);
        }

        // Record the revision on the deployment (metadata only; no generation bump).
        if (newRs is not null)
        {
            var rev = J.Str(newRs, "metadata", "annotations", RevisionAnnotation);
            if (J.Str(d, "metadata", "annotations", RevisionAnnotation) != rev)
            {
                var fresh = Store.Get(Resources.Deployments, ns, J.Name(d))!;
                var upd = J.Clone(fresh);
                J.Obj(J.Meta(upd), "annotations")[RevisionAnnotation] = rev;
                d0 = _core.Put(Resources.Deployments, fresh, upd);
                d = J.Clone(d0);
            }
        }

        if (newRs is not null)
        {
            var oldRss = rsList.Where(rs => J.Uid(rs) != J.Uid(newRs)).ToList();
            if (!paused)
            {
                if ((J.Str(d, "spec", "strategy", "type") ?? "RollingUpdate") == "Recreate")
                {
                    RolloutRecreate(d, newRs, oldRss, replicas);
                }
                else
                {
                    RolloutRolling(d, newRs, oldRss, replicas);
                }
            }
            else if (oldRss.All(rs => SpecReplicas(rs) == 0) && SpecReplicas(newRs) != replicas)
            {
                ScaleReplicaSet(d, newRs, replicas, surge);
            }

            newRs = Store.Get(Resources.ReplicaSets, ns, J.Name(newRs)) ?? newRs;
            oldRss = oldRss.Select(rs => Store.Get(Resources.ReplicaSets, ns, J.Name(rs))).OfType<JsonObject>().ToList();
            if (!paused && oldRss.All(rs => SpecReplicas(rs) == 0 && StatusInt(rs, "replicas") == 0))
            {
                CleanupHistory(d, oldRss);
            }
        }

        UpdateDeploymentStatus(ns, J.Name(d), newRs is null ? null : Store.Get(Resources.ReplicaSets, ns, J.Name(newRs)), createdNewRsName);
    }

    private JsonObject CreateReplicaSet(JsonObject d, long revision, int surge)
    {
        var template = J.Clone((JsonObject)J.At(d, "spec", "template")!);
        var hash = TemplateHash(template);
        J.Obj(J.Meta(template), "labels")[HashLabel] = hash;
        var selector = J.Clone(J.At(d, "spec", "selector") as JsonObject ?? new JsonObject());
        J.Obj(selector, "matchLabels")[HashLabel] = hash;
        var labels = J.Clone(J.At(template, "metadata", "labels") as JsonObject ?? new JsonObject());
        var annotations = new JsonObject();
        foreach (var (k, v) in J.StringMap(J.At(d, "metadata", "annotations")).Where(p => !AnnotationsNotCopied.Contains(p.Key)))
        {
            annotations[k] = v;
        }

        annotations[DesiredReplicasAnnotation] = ClusterCore.Int(SpecReplicas(d));
        annotations[MaxReplicasAnnotation] = ClusterCore.Int(SpecReplicas(d) + surge);
        annotations[RevisionAnnotation] = ClusterCore.Int(revision);
        var rs = new JsonObject
        {
            ["kind"] = "ReplicaSet",
            ["apiVersion"] = "apps/v1",
            ["metadata"] = new JsonObject
            {
                ["name"] = $"{J.Name(d)}-{hash}",
                ["namespace"] = J.Namespace(d),
                ["labels"] = labels,
                ["annotations"] = annotations,
                ["ownerReferences"] = new JsonArray(ClusterCore.OwnerRef(Resources.Deployments, d)),
            },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 0,
                ["selector"] = selector,
                ["template"] = template,
            },
            ["status"] = new JsonObject { ["replicas"] = 0 },
        };
        if (J.At(d, "spec", "minReadySeconds") is { } mrs)
        {
            ((JsonObject)rs["spec"]!)["minReadySeconds"] = mrs.DeepClone();
        }

        var created = _core.Create(Resources.ReplicaSets, rs);
        SetProgressing(d, "True", "NewReplicaSetCreated", $"Created new replica set \"{J.Name(created)}\"");
        return created;
    }

    private JsonObject SyncNewReplicaSetAnnotations(JsonObject d, JsonObject rs, long maxRev, int surge)
    {
        var updated = J.Clone(rs);
        var ann = J.Obj(J.Meta(updated), "annotations");
        foreach (var (k, v) in J.StringMap(J.At(d, "metadata", "annotations")).Where(p => !AnnotationsNotCopied.Contains(p.Key)))
        {
            ann[k] = v;
        }

        var rev = Revision(rs);
        if (rev < maxRev)
        {
            var history = J.Str(ann, RevisionHistoryAnnotation);
            ann[RevisionHistoryAnnotation] = string.IsNullOrEmpty(history) ? ClusterCore.Int(rev) : history + "," + ClusterCore.Int(rev);
            ann[RevisionAnnotation] = ClusterCore.Int(maxRev + 1);
        }

        ann[DesiredReplicasAnnotation] = ClusterCore.Int(SpecReplicas(d));
        ann[MaxReplicasAnnotation] = ClusterCore.Int(SpecReplicas(d) + surge);
        return _core.Put(Resources.ReplicaSets, rs, updated);
    }

    private void RolloutRecreate(JsonObject d, JsonObject newRs, List<JsonObject> oldRss, long replicas)
    {
        var active = oldRss.Where(rs => SpecReplicas(rs) > 0).ToList();
        foreach (var rs in active)
        {
            ScaleReplicaSet(d, rs, 0, 0);
        }

        if (active.Count == 0 && oldRss.All(rs => StatusInt(rs, "replicas") == 0) && SpecReplicas(newRs) != replicas)
        {
            ScaleReplicaSet(d, newRs, replicas, 0);
        }
    }

    private void RolloutRolling(JsonObject d, JsonObject newRs, List<JsonObject> oldRss, long replicas)
    {
        var ns = J.Namespace(d);
        var (surge, unavailable) = SurgeAndUnavailable(d);

        // Scale up the new replica set.
        var newCount = SpecReplicas(newRs);
        if (newCount > replicas)
        {
            ScaleReplicaSet(d, newRs, replicas, surge);
        }
        else if (newCount < replicas)
        {
            var all = newCount + oldRss.Sum(SpecReplicas);
            var maxTotal = replicas + surge;
            if (all < maxTotal)
            {
                var up = Math.Min(maxTotal - all, replicas - newCount);
                ScaleReplicaSet(d, newRs, newCount + up, surge);
            }
        }

        newRs = Store.Get(Resources.ReplicaSets, ns, J.Name(newRs))!;

        // Scale down old replica sets.
        var allPods = SpecReplicas(newRs) + oldRss.Sum(SpecReplicas);
        var minAvailable = replicas - unavailable;
        var newUnavailable = SpecReplicas(newRs) - StatusInt(newRs, "availableReplicas");
        var maxScaledDown = allPods - minAvailable - newUnavailable;
        if (maxScaledDown <= 0)
        {
            return;
        }

        var ordered = oldRss.OrderBy(rs => J.Str(rs, "metadata", "creationTimestamp"), StringComparer.Ordinal).ThenBy(J.Name).ToList();
        long cleaned = 0;
        var current = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var rs in ordered)
        {
            current[J.Name(rs)] = SpecReplicas(rs);
        }

        foreach (var rs in ordered)
        {
            var spec = current[J.Name(rs)];
            var avail = StatusInt(rs, "availableReplicas");
            if (cleaned >= maxScaledDown || spec == avail)
            {
                continue;
            }

            var down = Math.Min(maxScaledDown - cleaned, spec - avail);
            if (down <= 0)
            {
                continue;
            }

            current[J.Name(rs)] = spec - down;
            cleaned += down;
        }

        var availableAll = StatusInt(newRs, "availableReplicas") + ordered.Sum(rs => Math.Min(StatusInt(rs, "availableReplicas"), current[J.Name(rs)]));
        if (availableAll > minAvailable)
        {
            var total = availableAll - minAvailable;
            long done = 0;
            foreach (var rs in ordered)
            {
                if (done >= total)
                {
                    break;
                }

                var spec = current[J.Name(rs)];
                if (spec == 0)
                {
                    continue;
                }

                var down = Math.Min(spec, total - done);
                current[J.Name(rs)] = spec - down;
                done += down;
            }
        }

        foreach (var rs in ordered)
        {
            if (current[J.Name(rs)] != SpecReplicas(rs))
            {
                ScaleReplicaSet(d, rs, current[J.Name(rs)], surge);
            }
        }
    }

    private void ScaleReplicaSet(JsonObject d, JsonObject rs, long to, int surge)
    {
        var fresh = Store.Get(Resources.ReplicaSets, J.Namespace(rs), J.Name(rs)) ?? rs;
        var from = SpecReplicas(fresh);
        if (from == to)
        {
            return;
        }

        var updated = J.Clone(fresh);
        J.Obj(updated, "spec")["replicas"] = to;
        var ann = J.Obj(J.Meta(updated), "annotations");
        ann[DesiredReplicasAnnotation] = ClusterCore.Int(SpecReplicas(d));
        ann[MaxReplicasAnnotation] = ClusterCore.Int(SpecReplicas(d) + surge);
        _core.Put(Resources.ReplicaSets, fresh, updated);
        var direction = to > from ? "up" : "down";
        _core.EnsureEvent(
            Resources.Deployments,
            d,
            "Normal",
            "ScalingReplicaSet",
            $"Scaled {direction} replica set {J.Name(rs)} from {from} to {to}",
            1,
            Now,
            Now,
            "deployment-controller",
            key: $"scale|{J.Name(rs)}|{from}|{to}|{Store.ResourceVersion}");
    }

    private void CleanupHistory(JsonObject d, List<JsonObject> oldRss)
    {
        var limit = J.Long(d, "spec", "revisionHistoryLimit") ?? 10;
        var candidates = oldRss.OrderBy(Revision).ToList();
        var excess = candidates.Count - limit;
        for (var i = 0; i < excess; i++)
        {
            Store.Delete(Resources.ReplicaSets, J.Namespace(candidates[i]), J.Name(candidates[i]));
        }
    }

    private void SetProgressing(JsonObject d, string status, string reason, string message)
    {
        var fresh = Store.Get(Resources.Deployments, J.Namespace(d), J.Name(d));
        if (fresh is null)
        {
            return;
        }

        var updated = J.Clone(fresh);
        var st = J.Obj(updated, "status");
        SetCondition(st, "Progressing", status, reason, message, Now, forceUpdate: true);
        _core.Put(Resources.Deployments, fresh, updated);
    }

    private static void SetCondition(JsonObject status, string type, string value, string reason, string message, DateTimeOffset now, bool forceUpdate = false)
    {
        var conds = J.Arr(status, "conditions");
        var existing = conds.OfType<JsonObject>().FirstOrDefault(c => J.Str(c, "type") == type);
        var ts = J.Time(now);
        if (existing is not null)
        {
            if (J.Str(existing, "status") == value && J.Str(existing, "reason") == reason && !forceUpdate)
            {
                return;
            }

            var transition = J.Str(existing, "status") == value ? J.Str(existing, "lastTransitionTime") ?? ts : ts;
            var idx = conds.IndexOf(existing);
            conds[idx] = Condition(type, value, reason, message, ts, transition);
            return;
        }

        conds.Add(Condition(type, value, reason, message, ts, ts));
    }

    private static JsonObject Condition(string type, string value, string reason, string message, string updateTime, string transitionTime) => new()
    {
        ["type"] = type,
        ["status"] = value,
        ["lastUpdateTime"] = updateTime,
        ["lastTransitionTime"] = transitionTime,
        ["reason"] = reason,
        ["message"] = message,
    };

    private void UpdateDeploymentStatus(string ns, string name, JsonObject? newRs, string? createdNewRsName)
    {
        var d = Store.Get(Resources.Deployments, ns, name);
        if (d is null)
        {
            return;
        }

        _ = createdNewRsName;
        var allRs = OwnedBy(Resources.ReplicaSets, d);
        var replicas = SpecReplicas(d);
        var (_, maxUnavailable) = SurgeAndUnavailable(d);
        var oldStatus = d["status"] as JsonObject ?? new JsonObject();
        var st = new JsonObject();
        st["observedGeneration"] = J.Long(d, "metadata", "generation") ?? 1;
        long actual = allRs.Sum(rs => StatusInt(rs, "replicas"));
        long updated = newRs is null ? 0 : StatusInt(newRs, "replicas");
        long ready = allRs.Sum(rs => StatusInt(rs, "readyReplicas"));
        long available = allRs.Sum(rs => StatusInt(rs, "availableReplicas"));
        long total = allRs.Sum(SpecReplicas);
        long unavailable = Math.Max(0, total - available);
        void SetNonZero(string field, long v)
        {
            if (v != 0)
            {
                st[field] = v;
            }
        }

        SetNonZero("replicas", actual);
        SetNonZero("updatedReplicas", updated);
        SetNonZero("readyReplicas", ready);
        SetNonZero("availableReplicas", available);
        SetNonZero("unavailableReplicas", unavailable);
        if (oldStatus["conditions"] is JsonArray oc)
        {
            st["conditions"] = oc.DeepClone();
        }

        if (oldStatus["collisionCount"] is { } cc)
        {
            st["collisionCount"] = cc.DeepClone();
        }

        if (available >= replicas - maxUnavailable)
        {
            SetCondition(st, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", Now);
        }
        else
        {
            SetCondition(st, "Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", Now);
        }

        var paused = J.Bool(d, "spec", "paused") == true;
        var current = (st["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => J.Str(c, "type") == "Progressing");
        var deadline = J.Long(d, "spec", "progressDeadlineSeconds") ?? 600;
        if (paused)
        {
            if (J.Str(current, "reason") != "DeploymentPaused")
            {
                SetCondition(st, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", Now);
            }
        }
        else if (J.Str(current, "reason") == "DeploymentPaused")
        {
            SetCondition(st, "Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed", Now);
        }
        else if (newRs is not null)
        {
            var isComplete = actual == updated && J.Str(current, "reason") == "NewReplicaSetAvailable";
            if (!isComplete)
            {
                var oldUpdated = J.Long(oldStatus, "updatedReplicas") ?? 0;
                var oldReplicas = J.Long(oldStatus, "replicas") ?? 0;
                var deploymentComplete = updated == replicas && actual == replicas && available == replicas;
                var progressing = updated > oldUpdated
                    || (actual - updated) < (oldReplicas - oldUpdated)
                    || ready > (J.Long(oldStatus, "readyReplicas") ?? 0)
                    || available > (J.Long(oldStatus, "availableReplicas") ?? 0);
                if (deploymentComplete)
                {
                    SetCondition(st, "Progressing", "True", "NewReplicaSetAvailable", $"ReplicaSet \"{J.Name(newRs)}\" has successfully progressed.", Now);
                }
                else if (progressing)
                {
                    SetCondition(st, "Progressing", "True", "ReplicaSetUpdated", $"ReplicaSet \"{J.Name(newRs)}\" is progressing.", Now, forceUpdate: true);
                }
                else if (current is not null && J.Str(current, "reason") is not ("NewReplicaSetAvailable" or "ProgressDeadlineExceeded"))
                {
                    var from = J.ParseTime(J.Str(current, "lastUpdateTime")) ?? Now;
                    if (from.AddSeconds(deadline) < Now)
                    {
                        SetCondition(st, "Progressing", "False", "ProgressDeadlineExceeded", $"ReplicaSet \"{J.Name(newRs)}\" has timed out progressing.", Now);
                    }
                }
                else if (current is null)
                {
                    SetCondition(st, "Progressing", "True", "ReplicaSetUpdated", $"ReplicaSet \"{J.Name(newRs)}\" is progressing.", Now);
                }
            }
        }

        if (J.Same(oldStatus, st))
        {
            return;
        }

        var upd = J.Clone(d);
        upd["status"] = st;
        _core.Put(Resources.Deployments, d, upd);
    }

    // ------------------------------------------------------------------ replicaset controller

    private void SyncReplicaSet(JsonObject rs)
    {
        var pods = OwnedBy(Resources.Pods, rs);
        var desired = SpecReplicas(rs);
        if (pods.Count < desired)
        {
            for (var i = pods.Count; i < desired; i++)
            {
                var pod = CreatePod(rs);
                _core.EnsureEvent(Resources.ReplicaSets, rs, "Normal", "SuccessfulCreate", $"Created pod: {J.Name(pod)}", 1, Now, Now, "replicaset-controller");
            }
        }
        else if (pods.Count > desired)
        {
            var victims = pods
                .OrderBy(p => string.IsNullOrEmpty(J.Str(p, "spec", "nodeName")) ? 0 : 1)
                .ThenBy(p => J.Str(p, "status", "phase") == "Pending" ? 0 : 1)
                .ThenBy(p => PodReady(p) ? 1 : 0)
                .ThenByDescending(p => J.Str(p, "metadata", "creationTimestamp"), StringComparer.Ordinal)
                .ThenByDescending(J.Name, StringComparer.Ordinal)
                .Take((int)(pods.Count - desired))
                .ToList();
            foreach (var v in victims)
            {
                Store.Delete(Resources.Pods, J.Namespace(v), J.Name(v));
                _core.EnsureEvent(Resources.ReplicaSets, rs, "Normal", "SuccessfulDelete", $"Deleted pod: {J.Name(v)}", 1, Now, Now, "replicaset-controller");
            }
        }

        pods = OwnedBy(Resources.Pods, rs);
        var st = new JsonObject();
        st["replicas"] = pods.Count;
        var labelled = pods.Count(p => LabelSelector.FromObject(J.At(rs, "spec", "selector")).Matches(p));
        var ready = pods.Count(PodReady);
        if (labelled > 0)
        {
            st["fullyLabeledReplicas"] = labelled;
        }

        if (ready > 0)
        {
            st["readyReplicas"] = ready;
            st["availableReplicas"] = ready;
        }

        st["observedGeneration"] = J.Long(rs, "metadata", "generation") ?? 1;
        if (!J.Same(rs["status"], st))
        {
            var upd = J.Clone(rs);
            upd["status"] = st;
            _core.Put(Resources.ReplicaSets, rs, upd);
        }
    }

    public static bool PodReady(JsonObject pod) =>
        (J.At(pod, "status", "conditions") as JsonArray)?.OfType<JsonObject>().Any(c => J.Str(c, "type") == "Ready" && J.Str(c, "status") == "True") == true;

    private JsonObject CreatePod(JsonObject rs)
    {
        var template = J.At(rs, "spec", "template") as JsonObject ?? new JsonObject();
        var name = $"{J.Name(rs)}-{J.RandomSuffix(Store.Random)}";
        while (Store.Get(Resources.Pods, J.Namespace(rs), name) is not null)
        {
            name = $"{J.Name(rs)}-{J.RandomSuffix(Store.Random)}";
        }

        var meta = new JsonObject
        {
            ["name"] = name,
            ["generateName"] = J.Name(rs) + "-",
            ["namespace"] = J.Namespace(rs),
        };
        if (J.At(template, "metadata", "labels") is JsonObject labels)
        {
            meta["labels"] = labels.DeepClone();
        }

        if (J.At(template, "metadata", "annotations") is JsonObject ann)
        {
            meta["annotations"] = ann.DeepClone();
        }

        meta["ownerReferences"] = new JsonArray(ClusterCore.OwnerRef(Resources.ReplicaSets, rs));
        var spec = J.Clone(template["spec"] as JsonObject ?? new JsonObject());
        Defaults.PodSpec(spec);
        var pod = new JsonObject
        {
            ["kind"] = "Pod",
            ["apiVersion"] = "v1",
            ["metadata"] = meta,
            ["spec"] = spec,
            ["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = QosClass(spec) },
        };
        AssignNode(pod);
        return _core.Create(Resources.Pods, pod);
    }

    public void AssignNode(JsonObject pod)
    {
        var spec = J.Obj(pod, "spec");
        if (J.Str(spec, "nodeName") is not null || IsUnschedulable(spec))
        {
            return;
        }

        _podCounter++;
        spec["nodeName"] = $"sim-node-{((_podCounter - 1) % NodeCount) + 1}";
    }

    private bool IsUnschedulable(JsonObject spec) =>
        (spec["containers"] as JsonArray)?.Any(c => _core.BehaviourFor(J.Str(c, "image")).NormalizedMode == "pending") == true;

    public static string QosClass(JsonObject spec)
    {
        var containers = (spec["containers"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var anySet = containers.Any(c => J.At(c, "resources", "requests") is JsonObject { Count: > 0 } || J.At(c, "resources", "limits") is JsonObject { Count: > 0 });
        if (!anySet)
        {
            return "BestEffort";
        }

        var guaranteed = containers.All(c =>
        {
            var limits = J.StringMap(J.At(c, "resources", "limits"));
            var requests = J.StringMap(J.At(c, "resources", "requests"));
            return limits.ContainsKey("cpu") && limits.ContainsKey("memory")
                && (!requests.TryGetValue("cpu", out var rc) || rc == limits["cpu"])
                && (!requests.TryGetValue("memory", out var rm) || rm == limits["memory"]);
        });
        return guaranteed ? "Guaranteed" : "Burstable";
    }

    // ------------------------------------------------------------------ kubelet

    private sealed record ContainerState(JsonObject Status, bool Ready, bool Started, bool Creating, DateTimeOffset ReadySince, DateTimeOffset NotReadySince);

    private void SyncPod(JsonObject pod)
    {
        if (J.At(pod, "metadata", "deletionTimestamp") is not null)
        {
            return;
        }

        var now = Now;
        var created = J.ParseTime(J.Str(pod, "metadata", "creationTimestamp")) ?? now;
        if (created > now)
        {
            return;
        }

        var spec = pod["spec"] as JsonObject ?? new JsonObject();
        if (J.Str(spec, "nodeName") is null && !IsUnschedulable(spec))
        {
            var withNode = J.Clone(pod);
            AssignNode(withNode);
            pod = _core.Put(Resources.Pods, pod, withNode);
            spec = (JsonObject)pod["spec"]!;
        }

        var containers = (spec["containers"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var st = new JsonObject();
        var createdTs = J.Time(created);
        if (IsUnschedulable(spec))
        {
            st["phase"] = "Pending";
            st["conditions"] = new JsonArray(new JsonObject
            {
                ["type"] = "PodScheduled",
                ["status"] = "False",
                ["lastProbeTime"] = null,
                ["lastTransitionTime"] = createdTs,
                ["reason"] = "Unschedulable",
                ["message"] = "0/3 nodes are available: 3 Insufficient cpu.",
            });
            st["qosClass"] = QosClass(spec);
            WriteStatus(pod, st);
            var count = 1 + (int)((now - created).TotalMinutes / 5);
            _core.EnsureEvent(Resources.Pods, pod, "Warning", "FailedScheduling", "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.", count, created, created.AddMinutes((count - 1) * 5), "default-scheduler", key: "FailedScheduling");
            return;
        }

        var node = J.Str(spec, "nodeName")!;
        var states = containers.Select(c => ContainerStatus(pod, c, created, now, node)).ToList();
        var allReady = states.Count > 0 && states.All(s => s.Ready);
        var anyCreating = states.Any(s => s.Creating);
        st["phase"] = anyCreating ? "Pending" : "Running";
        var readyTransition = allReady ? states.Max(s => s.ReadySince) : states.Select(s => s.NotReadySince).DefaultIfEmpty(created).Max();
        var conditions = new JsonArray
        {
            PodCondition("PodReadyToStartContainers", states.Any(s => s.Started || !s.Creating) ? "True" : "False", J.Time(created.AddSeconds(1 < (now - created).TotalSeconds ? 1 : 0))),
            PodCondition("Initialized", "True", createdTs),
            PodCondition("Ready", allReady ? "True" : "False", J.Time(readyTransition), allReady ? null : "ContainersNotReady", allReady ? null : $"containers with unready status: [{string.Join(" ", containers.Zip(states).Where(p => !p.Second.Ready).Select(p => J.Str(p.First, "name")))}]"),
            PodCondition("ContainersReady", allReady ? "True" : "False", J.Time(readyTransition), allReady ? null : "ContainersNotReady", allReady ? null : $"containers with unready status: [{string.Join(" ", containers.Zip(states).Where(p => !p.Second.Ready).Select(p => J.Str(p.First, "name")))}]"),
            PodCondition("PodScheduled", "True", createdTs),
        };
        st["conditions"] = conditions;
        var nodeIndex = int.TryParse(node[(node.LastIndexOf('-') + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ni) ? ni : 1;
        st["hostIP"] = $"10.0.0.{nodeIndex + 10}";
        st["hostIPs"] = new JsonArray(new JsonObject { ["ip"] = $"10.0.0.{nodeIndex + 10}" });
        var ipHash = J.Fnv32(J.Uid(pod));
        var podIp = $"10.244.{ipHash % 250}.{((ipHash / 250) % 250) + 2}";
        st["podIP"] = podIp;
        st["podIPs"] = new JsonArray(new JsonObject { ["ip"] = podIp });
        st["startTime"] = createdTs;
        st["containerStatuses"] = new JsonArray(states.Select(s => (JsonNode)s.Status).ToArray());
        st["qosClass"] = QosClass(spec);
        WriteStatus(pod, st);
    }

    private void WriteStatus(JsonObject pod, JsonObject status)
    {
        if (J.Same(pod["status"], status))
        {
            return;
        }

        var upd = J.Clone(pod);
        upd["status"] = status;
        _core.Put(Resources.Pods, pod, upd);
    }

    private static JsonObject PodCondition(string type, string status, string transition, string? reason = null, string? message = null)
    {
        var c = new JsonObject
        {
            ["type"] = type,
            ["status"] = status,
            ["lastProbeTime"] = null,
            ["lastTransitionTime"] = transition,
        };
        if (reason is not null)
        {
            c["reason"] = reason;
            c["message"] = message;
        }

        return c;
    }

    /// <summary>Pod annotation that overrides the image behaviour's mode for that pod only.</summary>
    public const string PodModeAnnotation = "simulator.remediation.io/mode";

    private static string Sha(string s) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(s))).ToLowerInvariant();

    private ContainerState ContainerStatus(JsonObject pod, JsonObject container, DateTimeOffset created, DateTimeOffset now, string node)
    {
        var name = J.Str(container, "name") ?? "";
        var image = J.Str(container, "image") ?? "";
        var behaviour = _core.BehaviourFor(image);
        var readyAfter = _core.Options.PodReadyAfter;
        var age = now - created;
        var fieldPath = $"spec.containers{{{name}}}";
        var status = new JsonObject
        {
            ["name"] = name,
            ["state"] = new JsonObject(),
            ["lastState"] = new JsonObject(),
            ["ready"] = false,
            ["restartCount"] = 0,
            ["image"] = image,
            ["imageID"] = "",
        };
        var podDesc = $"{J.Name(pod)}_{J.Namespace(pod)}({J.Uid(pod)})";
        // A pod may override its image's behaviour (one wedged pod among healthy ones, e.g. on a bad node).
        var overridden = J.Str(pod, "metadata", "annotations", PodModeAnnotation);
        if (overridden is not null)
        {
            behaviour = new ImageBehaviour { Mode = overridden, ErrorRatio = behaviour.ErrorRatio, P50Ms = behaviour.P50Ms, P99Ms = behaviour.P99Ms, RequestsPerSecond = behaviour.RequestsPerSecond };
        }
        var mode = behaviour.NormalizedMode;

        if (age < readyAfter && mode != "imagepullbackoff")
        {
            status["state"] = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "ContainerCreating" } };
            status["started"] = false;
            _core.EnsureEvent(Resources.Pods, pod, "Normal", "Scheduled", $"Successfully assigned {J.Namespace(pod)}/{J.Name(pod)} to {node}", 1, created, created, "default-scheduler");
            return new ContainerState(status, false, false, true, created, created);
        }

        _core.EnsureEvent(Resources.Pods, pod, "Normal", "Scheduled", $"Successfully assigned {J.Namespace(pod)}/{J.Name(pod)} to {node}", 1, created, created, "default-scheduler");
        var imageId = $"{image.Split(':')[0]}@sha256:{Sha(image)}";
        if (mode == "imagepullbackoff")
        {
            var errPull = age < readyAfter + TimeSpan.FromSeconds(10);
            status["state"] = new JsonObject
            {
                ["waiting"] = new JsonObject
                {
                    ["reason"] = errPull ? "ErrImagePull" : "ImagePullBackOff",
                    ["message"] = errPull
                        ? $"rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found"
                        : $"Back-off pulling image \"{image}\"",
                },
            };
            status["started"] = false;
            var attempts = 1 + (int)Math.Min(100, Math.Max(0, (age - readyAfter).TotalSeconds) / 300);
            _core.EnsureEvent(Resources.Pods, pod, "Normal", "Pulling", $"Pulling image \"{image}\"", attempts, created, created, "kubelet", node, fieldPath);
            _core.EnsureEvent(Resources.Pods, pod, "Warning", "Failed", $"Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found", attempts, created, created, "kubelet", node, fieldPath);
            _core.EnsureEvent(Resources.Pods, pod, "Warning", "Failed", "Error: ErrImagePull", attempts, created, created, "kubelet", node, fieldPath);
            if (!errPull)
            {
                _core.EnsureEvent(Resources.Pods, pod, "Normal", "BackOff", $"Back-off pulling image \"{image}\"", attempts, created.Add(readyAfter), created.Add(readyAfter), "kubelet", node, fieldPath);
                _core.EnsureEvent(Resources.Pods, pod, "Warning", "Failed", "Error: ImagePullBackOff", attempts, created.Add(readyAfter), created.Add(readyAfter), "kubelet", node, fieldPath);
            }

            return new ContainerState(status, false, false, true, created, created);
        }

        status["imageID"] = imageId;
        var startedAt = created.Add(readyAfter);
        _core.EnsureEvent(Resources.Pods, pod, "Normal", "Pulled", $"Container image \"{image}\" already present on machine", 1, startedAt, startedAt, "kubelet", node, fieldPath);
        _core.EnsureEvent(Resources.Pods, pod, "Normal", "Created", $"Created container: {name}", 1, startedAt, startedAt, "kubelet", node, fieldPath);
        _core.EnsureEvent(Resources.Pods, pod, "Normal", "Started", $"Started container {name}", 1, startedAt, startedAt, "kubelet", node, fieldPath);

        if (mode is "crashloop" or "crashloopbackoff" or "oomkilled" or "oom")
        {
            var crashAt = startedAt + (behaviour.CrashAfter ?? TimeSpan.Zero);
            if (now < crashAt)
            {
                status["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = J.Time(startedAt) } };
                status["ready"] = true;
                status["started"] = true;
                status["containerID"] = "containerd://" + Sha(J.Uid(pod) + name + "0");
                return new ContainerState(status, true, true, false, startedAt, created);
            }

            var (restarts, lastStart, lastCrash, backoff) = CrashSchedule(crashAt, now);
            var oom = mode is "oomkilled" or "oom";
            status["restartCount"] = restarts;
            status["started"] = false;
            status["state"] = new JsonObject
            {
                ["waiting"] = new JsonObject
                {
                    ["reason"] = "CrashLoopBackOff",
                    ["message"] = $"back-off {FormatGo(backoff)} restarting failed container={name} pod={podDesc}",
                },
            };
            status["lastState"] = new JsonObject
            {
                ["terminated"] = new JsonObject
                {
                    ["exitCode"] = oom ? 137 : 1,
                    ["reason"] = oom ? "OOMKilled" : "Error",
                    ["startedAt"] = J.Time(lastStart),
                    ["finishedAt"] = J.Time(lastCrash),
                    ["containerID"] = "containerd://" + Sha(J.Uid(pod) + name + restarts.ToString(CultureInfo.InvariantCulture)),
                },
            };
            status["containerID"] = "containerd://" + Sha(J.Uid(pod) + name + restarts.ToString(CultureInfo.InvariantCulture));
            var backOffCount = Math.Max(1, restarts + 1);
            _core.EnsureEvent(Resources.Pods, pod, "Warning", "BackOff", $"Back-off restarting failed container {name} in pod {podDesc}", backOffCount, crashAt.AddSeconds(1), lastCrash.AddSeconds(1), "kubelet", node, fieldPath, key: "BackOff|" + name);
            if (oom)
            {
                _core.EnsureEvent(Resources.Pods, pod, "Warning", "OOMKilling", $"Memory cgroup out of memory: Killed process ({name}) total-vm:1048576kB, anon-rss:{MemoryLimitKb(container)}kB, file-rss:0kB, shmem-rss:0kB", Math.Max(1, restarts + 1), crashAt, lastCrash, "kernel-monitor", node, key: "OOMKilling|" + name);
            }

            return new ContainerState(status, false, false, false, startedAt, crashAt);
        }

        status["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = J.Time(startedAt) } };
        status["ready"] = true;
        status["started"] = true;
        status["containerID"] = "containerd://" + Sha(J.Uid(pod) + name + "0");
        return new ContainerState(status, true, true, false, startedAt, created);
    }

    private static string MemoryLimitKb(JsonObject container)
    {
        var limit = J.Str(container, "resources", "limits", "memory") ?? "128Mi";
        if (limit.EndsWith("Mi", StringComparison.Ordinal) && long.TryParse(limit[..^2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var mi))
        {
            return (mi * 1024).ToString(CultureInfo.InvariantCulture);
        }

        if (limit.EndsWith("Gi", StringComparison.Ordinal) && long.TryParse(limit[..^2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var gi))
        {
            return (gi * 1024 * 1024).ToString(CultureInfo.InvariantCulture);
        }

        return "131072";
    }

    private static string FormatGo(TimeSpan t) =>
        t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds}s" : $"{(int)t.TotalSeconds}s";

    /// <summary>Kubelet crash back-off: 10s doubling to 5m, each restart runs 1s before crashing again.</summary>
    internal static (int Restarts, DateTimeOffset LastStart, DateTimeOffset LastCrash, TimeSpan Backoff) CrashSchedule(DateTimeOffset firstCrash, DateTimeOffset now)
    {
        var t = firstCrash;
        var backoff = TimeSpan.FromSeconds(10);
        var restarts = 0;
        var lastStart = firstCrash;
        var max = TimeSpan.FromMinutes(5);
        while (backoff < max)
        {
            if (now < t + backoff)
            {
                return (restarts, lastStart, t, backoff);
            }

            lastStart = t + backoff;
            t = lastStart + TimeSpan.FromSeconds(1);
            restarts++;
            backoff = backoff * 2 > max ? max : backoff * 2;
        }

        var cycle = max + TimeSpan.FromSeconds(1);
        var extra = (long)Math.Floor((now - t) / cycle);
        if (extra > 0)
        {
            t += cycle * extra;
            lastStart = t - TimeSpan.FromSeconds(1);
            restarts += (int)extra;
        }

        return (restarts, lastStart, t, max);
    }
}
