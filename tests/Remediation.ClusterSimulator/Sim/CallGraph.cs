using System.Text.Json.Nodes;
using Remediation.ClusterSimulator.Json;

namespace Remediation.ClusterSimulator.Sim;

/// <summary>
/// The call graph of a scenario (<c>calls</c>): requests a workload receives make calls to the services it depends on,
/// a callee's failures become a share of its caller's failures and the callee's latency adds to the caller's.
/// </summary>
internal sealed partial class TrafficMetrics
{
    /// <summary>Call chains deeper than this are cut (a cycle in the scenario's call graph must not loop forever).</summary>
    private const int MaxDepth = 8;

    /// <summary>Who sends a request: a mesh workload (both sidecars report it) or a client outside the mesh.</summary>
    private sealed record Caller(string Workload, string Namespace, bool InMesh, string Protocol);

    /// <summary>What the calls of one request add to it: the share of requests failed by a callee, and latency.</summary>
    private readonly record struct Added(double ErrorRatio, double P50Ms, double P99Ms);

    private IEnumerable<CallSpec> CallsFrom(JsonObject deployment) =>
        _core.Calls.Where(c => c.From == J.Name(deployment) && c.Namespace == J.Namespace(deployment) && c.Ratio > 0);

    /// <summary>Sends the calls <paramref name="requests"/> received by <paramref name="deployment"/> make to its callees.</summary>
    private void CallOut(JsonObject deployment, double requests, int depth)
    {
        if (depth >= MaxDepth)
        {
            return;
        }

        foreach (var call in CallsFrom(deployment))
        {
            var caller = new Caller(J.Name(deployment), J.Namespace(deployment), InMesh: true, call.Protocol.Trim().ToLowerInvariant());
            foreach (var share in ResolveService(call.ToNamespace ?? call.Namespace, call.To, useVirtualService: true))
            {
                Accumulate(caller, share, requests * call.Ratio * share.Fraction, depth + 1);
            }
        }
    }

    /// <summary>What the callees of <paramref name="deployment"/> add to each request it receives (additive model).</summary>
    private Added Downstream(JsonObject deployment, int depth)
    {
        if (depth >= MaxDepth)
        {
            return default;
        }

        var err = 0.0;
        var p50 = 0.0;
        var p99 = 0.0;
        foreach (var call in CallsFrom(deployment))
        {
            var callee = ServiceInbound(call.ToNamespace ?? call.Namespace, call.To, depth + 1);
            err += call.Ratio * callee.ErrorRatio;
            p50 += call.Ratio * callee.P50Ms;
            p99 += call.Ratio * callee.P99Ms;
        }

        return new Added(Math.Min(1, err), p50, p99);
    }

    /// <summary>The error ratio and latency a request to a service sees, over the workloads its traffic is split to.</summary>
    private Added ServiceInbound(string ns, string service, int depth)
    {
        var shares = ResolveService(ns, service, useVirtualService: true).ToList();
        if (shares.Count == 0)
        {
            return new Added(1, 1, 5);
        }

        var total = shares.Sum(s => s.Fraction);
        var sum = default(Added);
        foreach (var share in shares)
        {
            var w = total > 0 ? share.Fraction / total : 1.0 / shares.Count;
            var inbound = WorkloadInbound(share.Deployment, depth);
            sum = new Added(sum.ErrorRatio + (w * inbound.ErrorRatio), sum.P50Ms + (w * inbound.P50Ms), sum.P99Ms + (w * inbound.P99Ms));
        }

        return sum;
    }

    private Added WorkloadInbound(JsonObject deployment, int depth)
    {
        var pods = ReadyPods(deployment);
        if (pods.Count == 0)
        {
            return new Added(1, 1, 5);
        }

        var downstream = Downstream(deployment, depth);
        var err = 0.0;
        var p50 = 0.0;
        var p99 = 0.0;
        foreach (var pod in pods)
        {
            var b = _core.BehaviourFor(ServingImage(pod));
            err += Math.Min(1, Math.Clamp(b.ErrorRatio, 0, 1) + downstream.ErrorRatio) / pods.Count;
            p50 += (b.P50Ms + downstream.P50Ms) / pods.Count;
            p99 += (b.P99Ms + downstream.P99Ms) / pods.Count;
        }

        return new Added(err, p50, p99);
    }
}
