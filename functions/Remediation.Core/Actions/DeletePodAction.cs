using System.Text.Json.Nodes;
using k8s.Models;
using Remediation.Cluster;
using Remediation.Kubernetes;
using Remediation.Policy;

namespace Remediation.Actions;

/// <summary>
/// Deletes the one stuck pod of a Deployment (its ReplicaSet replaces it): the smaller step than a rollout
/// restart when a single pod is wedged and the others serve. Refuses when more than one pod is stuck.
/// </summary>
public sealed class DeletePodAction(IClusterReader reader) : IRemediationAction
{
    public string Name => ActionNames.DeletePod;

    public async Task<ActionPlan> PlanAsync(ActionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var deployment = await reader.RequireDeploymentAsync(context.Target, cancellationToken).ConfigureAwait(false);
        var pods = await reader.PodsOfAsync(deployment, cancellationToken).ConfigureAwait(false);
        return PlanFor(context, pods, out var whyNot) ?? throw new ActionNotApplicableException(whyNot);
    }

    /// <summary>The plan that deletes the one stuck pod, or null (and why not) when that is not the smaller step.</summary>
    public static ActionPlan? PlanFor(ActionContext context, IReadOnlyList<V1Pod> pods, out string whyNot)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(pods);
        var target = context.Target;
        if (pods.Select(p => DeploymentRevisions.PodTemplateHash(p.Metadata)).Distinct().Count() > 1)
        {
            whyNot = $"{target} is mid-rollout (pods of several revisions); a deleted pod would come back the same";
            return null;
        }
        var stuck = pods.Where(p => p.Metadata.DeletionTimestamp is null && !IsReady(p)).ToList();
        if (stuck.Count != 1)
        {
            whyNot = stuck.Count == 0
                ? $"no pod of {target} is stuck"
                : $"{stuck.Count} pods of {target} are not ready; deleting one is not the smaller step";
            return null;
        }
        if (pods.Count(IsReady) == 0)
        {
            whyNot = $"{target} has no ready pod left; deleting its only pod would not help";
            return null;
        }
        whyNot = "";
        var pod = stuck[0];
        var restarts = pod.Status?.ContainerStatuses?.Sum(c => c.RestartCount) ?? 0;
        var reason = pod.Status?.ContainerStatuses?.Select(c => c.State?.Waiting?.Reason).FirstOrDefault(r => r is not null) ?? pod.Status?.Phase;
        return new ActionPlan
        {
            Action = ActionNames.DeletePod,
            Target = target,
            Summary = $"delete pod/{pod.Metadata.Name} -n {target.Namespace} ({reason}, {restarts} restarts); its ReplicaSet recreates it",
            Mutations =
            [
                new Mutation
                {
                    Kind = MutationKind.DeletePod, Namespace = target.Namespace, Name = pod.Metadata.Name,
                    ResourceVersion = pod.Metadata.ResourceVersion, Description = $"delete pod {pod.Metadata.Name}",
                },
            ],
            PriorState = new JsonObject
            {
                ["pod"] = pod.Metadata.Name,
                ["resourceVersion"] = pod.Metadata.ResourceVersion,
                ["reason"] = reason,
                ["restarts"] = restarts,
                ["readyPods"] = pods.Count(IsReady),
            },
            Verify = new VerificationSpec { RolloutComplete = true, Deployment = target.Name },
        };
    }

    private static bool IsReady(V1Pod pod) =>
        pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
}
