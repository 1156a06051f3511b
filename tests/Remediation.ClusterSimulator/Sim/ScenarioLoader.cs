using System.Text.Json.Nodes;
using Remediation.ClusterSimulator.Api;
using Remediation.ClusterSimulator.Json;

namespace Remediation.ClusterSimulator.Sim;

/// <summary>Builds a scenario by replaying its history in simulated past time. Call under the gate.</summary>
internal sealed class ScenarioLoader
{
    private const string ChangeCause = "kubernetes.io/change-cause";
    private readonly ClusterCore _core;
    private readonly ApiServer _api;

    public ScenarioLoader(ClusterCore core, ApiServer api)
    {
        _core = core;
        _api = api;
    }

    public void Load(Scenario s)
    {
        foreach (var (image, b) in s.Behaviours)
        {
            _core.Behaviours[image] = b;
        }

        _core.Traffic.AddRange(s.Traffic);
        _core.Calls.AddRange(s.Calls);
        _core.Metrics.Advance();
        var now = _core.Now;
        var actions = new List<(DateTimeOffset At, int Seq, Action Run)>();
        var earliest = now;
        var seq = 0;
        foreach (var d in s.Deployments)
        {
            var createdAgo = d.CreatedAgo ?? (d.History.Count > 0 ? TimeSpan.FromHours(2) : TimeSpan.FromHours(1));
            var rolledOutAgo = d.History.Count > 0 ? d.RolledOutAgo ?? TimeSpan.FromMinutes(10) : createdAgo;
            if (rolledOutAgo > createdAgo)
            {
                createdAgo = rolledOutAgo;
            }

            var first = now - createdAgo;
            earliest = first < earliest ? first : earliest;
            var revisions = d.History.Select(h => (JsonObject?)null).ToList();
            for (var i = 0; i < d.History.Count; i++)
            {
                var h = d.History[i];
                var at = h.Ago is { } ago ? now - ago : first + ((now - rolledOutAgo - first) * i / d.History.Count);
                var dep = d;
                actions.Add((at, seq++, () => Apply(dep, h)));
            }

            var current = d;
            actions.Add((now - rolledOutAgo, seq++, () => Apply(current, null)));
        }

        var start = earliest - TimeSpan.FromMinutes(1);
        _core.NowOverride = start;
        try
        {
            foreach (var ns in s.Namespaces.Concat(s.Deployments.Select(d => d.Namespace)).Concat(s.Services.Select(x => x.Namespace)).Distinct())
            {
                if (_core.Store.Get(Resources.Namespaces, null, ns) is null)
                {
                    _api.CreateObject(Resources.Namespaces, new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } }, null, false);
                }
            }

            foreach (var svc in s.Services)
            {
                CreateService(svc);
            }

            foreach (var m in s.Manifests.Concat(s.VirtualServices).Concat(s.DestinationRules).Concat(s.HttpRoutes))
            {
                CreateManifest(m);
            }

            foreach (var h in s.Hpas)
            {
                CreateHpa(h);
            }

            // Actions due at the same instant are applied together and reconciled once: a scenario of N workloads created
            // at once would otherwise reconcile the whole cluster N times.
            var fine = 0;
            foreach (var due in actions.OrderBy(a => a.At).ThenBy(a => a.Seq).GroupBy(a => a.At))
            {
                StepTo(due.Key, ref fine);
                foreach (var (_, _, run) in due)
                {
                    run();
                }
                _core.Controllers.Reconcile();
                fine = 0;
            }

            StepTo(now, ref fine);
        }
        finally
        {
            _core.NowOverride = null;
        }

        _core.Controllers.Reconcile();
        _core.Metrics.Start(now);
    }

    private void StepTo(DateTimeOffset target, ref int fine)
    {
        var t = _core.NowOverride ?? target;
        var small = _core.Options.PodReadyAfter < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : _core.Options.PodReadyAfter;
        while (t < target)
        {
            var step = fine < 120 ? small : TimeSpan.FromSeconds(30);
            fine++;
            t += step;
            if (t > target)
            {
                t = target;
            }

            _core.NowOverride = t;
            _core.Controllers.Reconcile();
        }

        _core.NowOverride = target;
    }

    private static Dictionary<string, string> LabelsOf(ScenarioDeployment d) => d.Labels ?? new Dictionary<string, string> { ["app"] = d.Name };

    private JsonObject BuildTemplate(ScenarioDeployment d, ScenarioRevision? rev)
    {
        var labels = LabelsOf(d);
        var container = new JsonObject
        {
            ["name"] = d.ContainerName ?? (labels.TryGetValue("app", out var app) ? app : d.Name),
            ["image"] = rev?.Image ?? d.Image,
        };
        var ports = d.Ports ?? [8080];
        if (ports.Count > 0)
        {
            container["ports"] = new JsonArray(ports.Select(p => (JsonNode)new JsonObject { ["name"] = "http", ["containerPort"] = p, ["protocol"] = "TCP" }).Take(1).Concat(ports.Skip(1).Select(p => (JsonNode)new JsonObject { ["containerPort"] = p, ["protocol"] = "TCP" })).ToArray());
        }

        var env = rev?.Env ?? d.Env;
        if (env is { Count: > 0 })
        {
            container["env"] = new JsonArray(env.Select(e => (JsonNode)new JsonObject { ["name"] = e.Key, ["value"] = e.Value }).ToArray());
        }

        var resources = rev?.Resources ?? d.Resources;
        if (resources is not null)
        {
            container["resources"] = resources.DeepClone();
        }

        return new JsonObject
        {
            ["metadata"] = new JsonObject { ["labels"] = J.ToObject(labels) },
            ["spec"] = new JsonObject { ["containers"] = new JsonArray(container) },
        };
    }

    private void Apply(ScenarioDeployment d, ScenarioRevision? rev)
    {
        var template = BuildTemplate(d, rev);
        var cause = rev is null ? d.ChangeCause : rev.ChangeCause;
        var existing = _core.Store.Get(Resources.Deployments, d.Namespace, d.Name);
        if (existing is null)
        {
            var annotations = d.Annotations is null ? new JsonObject() : J.ToObject(d.Annotations);
            if (cause is not null)
            {
                annotations[ChangeCause] = cause;
            }

            var spec = new JsonObject
            {
                ["replicas"] = d.Replicas,
                ["selector"] = new JsonObject { ["matchLabels"] = J.ToObject(LabelsOf(d)) },
                ["template"] = template,
            };
            if (d.RevisionHistoryLimit is { } limit)
            {
                spec["revisionHistoryLimit"] = limit;
            }

            if (d.ProgressDeadlineSeconds is { } pds)
            {
                spec["progressDeadlineSeconds"] = pds;
            }

            if (d.Strategy is not null)
            {
                spec["strategy"] = d.Strategy.DeepClone();
            }

            var obj = new JsonObject
            {
                ["apiVersion"] = "apps/v1",
                ["kind"] = "Deployment",
                ["metadata"] = new JsonObject
                {
                    ["name"] = d.Name,
                    ["namespace"] = d.Namespace,
                    ["labels"] = J.ToObject(LabelsOf(d)),
                },
                ["spec"] = spec,
            };
            if (annotations.Count > 0)
            {
                J.Meta(obj)["annotations"] = annotations;
            }

            _api.CreateObject(Resources.Deployments, obj, d.Namespace, false);
            return;
        }

        var updated = J.Clone(existing);
        J.Obj(updated, "spec")["template"] = template;
        var ann = J.Obj(J.Meta(updated), "annotations");
        if (cause is not null)
        {
            ann[ChangeCause] = cause;
        }
        else
        {
            ann.Remove(ChangeCause);
        }

        _api.ReplaceObject(Resources.Deployments, existing, updated);
    }

    private void CreateService(ScenarioService s)
    {
        var ports = s.Ports ?? [80];
        var obj = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Service",
            ["metadata"] = new JsonObject
            {
                ["name"] = s.Name,
                ["namespace"] = s.Namespace,
                ["labels"] = J.ToObject(s.Labels ?? new Dictionary<string, string> { ["app"] = s.Name }),
            },
            ["spec"] = new JsonObject
            {
                ["selector"] = J.ToObject(s.Selector ?? new Dictionary<string, string> { ["app"] = s.Name }),
                ["ports"] = new JsonArray(ports.Select(p => (JsonNode)new JsonObject
                {
                    ["name"] = "http" + (p == ports[0] ? "" : "-" + p),
                    ["port"] = p,
                    ["targetPort"] = s.TargetPort ?? 8080,
                    ["protocol"] = "TCP",
                }).ToArray()),
            },
        };
        _api.CreateObject(Resources.Services, obj, s.Namespace, false);
    }

    private void CreateManifest(JsonObject manifest)
    {
        var m = J.Clone(manifest);
        var rt = Resources.ByKind(J.Str(m, "apiVersion") ?? "", J.Str(m, "kind") ?? "")
            ?? throw new FormatException($"scenario manifest has an unsupported apiVersion/kind: {J.Str(m, "apiVersion")}/{J.Str(m, "kind")}");
        var ns = J.Str(m, "metadata", "namespace") ?? "default";
        if (rt.Namespaced && _core.Store.Get(Resources.Namespaces, null, ns) is null)
        {
            _api.CreateObject(Resources.Namespaces, new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } }, null, false);
        }

        var status = m["status"]?.DeepClone();
        var created = _api.CreateObject(rt, m, rt.Namespaced ? ns : null, false);
        if (status is not null)
        {
            var stored = _core.Store.Get(rt, ns, J.Name(created))!;
            var upd = J.Clone(stored);
            upd["status"] = status;
            _core.Put(rt, stored, upd);
        }
    }

    private void CreateHpa(ScenarioHpa h)
    {
        var current = h.CurrentReplicas ?? h.MinReplicas;
        var desired = h.DesiredReplicas ?? current;
        var atMax = current >= h.MaxReplicas;
        var hpa = new JsonObject
        {
            ["apiVersion"] = "autoscaling/v2",
            ["kind"] = "HorizontalPodAutoscaler",
            ["metadata"] = new JsonObject { ["name"] = h.Name, ["namespace"] = h.Namespace },
            ["spec"] = new JsonObject
            {
                ["scaleTargetRef"] = new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = "Deployment", ["name"] = h.Target ?? h.Name },
                ["minReplicas"] = h.MinReplicas,
                ["maxReplicas"] = h.MaxReplicas,
                ["metrics"] = new JsonArray(new JsonObject
                {
                    ["type"] = "Resource",
                    ["resource"] = new JsonObject
                    {
                        ["name"] = "cpu",
                        ["target"] = new JsonObject { ["type"] = "Utilization", ["averageUtilization"] = h.TargetCpuUtilization },
                    },
                }),
            },
        };
        var created = _api.CreateObject(Resources.Hpas, hpa, h.Namespace, false);
        var now = J.Time(_core.Now);
        var status = new JsonObject
        {
            ["currentReplicas"] = current,
            ["desiredReplicas"] = desired,
            ["currentMetrics"] = new JsonArray(new JsonObject
            {
                ["type"] = "Resource",
                ["resource"] = new JsonObject
                {
                    ["name"] = "cpu",
                    ["current"] = new JsonObject { ["averageUtilization"] = h.CurrentCpuUtilization ?? h.TargetCpuUtilization },
                },
            }),
            ["conditions"] = new JsonArray(
                new JsonObject { ["type"] = "AbleToScale", ["status"] = "True", ["lastTransitionTime"] = now, ["reason"] = "ReadyForNewScale", ["message"] = "recommended size matches current size" },
                new JsonObject { ["type"] = "ScalingActive", ["status"] = "True", ["lastTransitionTime"] = now, ["reason"] = "ValidMetricFound", ["message"] = "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)" },
                new JsonObject
                {
                    ["type"] = "ScalingLimited",
                    ["status"] = atMax ? "True" : "False",
                    ["lastTransitionTime"] = now,
                    ["reason"] = atMax ? "TooManyReplicas" : "DesiredWithinRange",
                    ["message"] = atMax ? "the desired replica count is more than the maximum replica count" : "the desired count is within the acceptable range",
                }),
        };
        var stored = _core.Store.Get(Resources.Hpas, h.Namespace, J.Name(created))!;
        var upd = J.Clone(stored);
        upd["status"] = status;
        _core.Put(Resources.Hpas, stored, upd);
    }
}
