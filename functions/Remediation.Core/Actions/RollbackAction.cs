using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

using Remediation.Alerts;
using Remediation.Cluster;
using Remediation.Kubernetes;
using Remediation.Policy;

namespace Remediation.Actions;

/// <summary>
/// `kubectl rollout undo`: copies the pod template of the ReplicaSet of the healthy revision (minus its
/// pod-template-hash label) back into the Deployment, with the same annotation handling as kubectl,
/// as one JSON Patch guarded by a resourceVersion test.
/// </summary>
public sealed class RollbackAction(IClusterReader reader) : IRemediationAction
{
    public const string PodTemplateHashLabel = DeploymentRevisions.PodTemplateHashLabel;

    // kubectl keeps these Deployment annotations and does not copy them from the ReplicaSet.
    private static readonly HashSet<string> AnnotationsToSkip = new(StringComparer.Ordinal)
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        DeploymentRevisions.RevisionAnnotation,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    };

    public string Name => ActionNames.Rollback;

    public async Task<ActionPlan> PlanAsync(ActionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var target = context.Target;
        var deployment = await reader.RequireDeploymentAsync(target, cancellationToken).ConfigureAwait(false);
        if (deployment.Spec.Paused == true)
        {
            throw new ActionNotApplicableException($"rollout of {target} is paused; kubectl refuses to roll back a paused deployment too");
        }
        var replicaSets = await reader.ReplicaSetsOfAsync(deployment, cancellationToken).ConfigureAwait(false);
        var (healthy, currentRevision) = ChooseRevision(target, deployment, replicaSets, context.Diagnosis.HealthyRevision);
        var plan = PlanUndo(target, deployment, healthy, currentRevision);
        // Ready pods of the old revision are not the fix of an error rate: when the workload's error ratio can be read, it
        // must be under the bound too (found from outside: a rollback Succeeded while 5xx stayed at 40 %).
        return plan with { Verify = plan.Verify with { MaxErrorRatio = context.Limits.HealthyErrorRatio } };
    }

    /// <summary>The ReplicaSet to roll back to (the diagnosed healthy revision, else the newest earlier one) and the current revision.</summary>
    private static (V1ReplicaSet Healthy, long CurrentRevision) ChooseRevision(
        WorkloadTarget target, V1Deployment deployment, List<V1ReplicaSet> replicaSets, long? wanted)
    {
        var current = replicaSets.FirstOrDefault(rs => EqualIgnoringHash(rs.Spec.Template, deployment.Spec.Template));
        var currentRevision = current is null ? 0 : DeploymentRevisions.Of(current);
        var healthy = wanted is { } revision
            ? replicaSets.FirstOrDefault(rs => DeploymentRevisions.Of(rs) == revision)
            : replicaSets.FirstOrDefault(rs => DeploymentRevisions.Of(rs) != currentRevision && DeploymentRevisions.Of(rs) < currentRevision);
        if (healthy is null)
        {
            throw new ActionNotApplicableException(wanted is { } w
                ? $"revision {w} of {target} is no longer in its history (revisionHistoryLimit)"
                : $"{target} has no earlier revision to roll back to");
        }
        if (EqualIgnoringHash(healthy.Spec.Template, deployment.Spec.Template))
        {
            throw new ActionNotApplicableException($"{target} already runs the template of revision {DeploymentRevisions.Of(healthy)}");
        }
        return (healthy, currentRevision);
    }

    /// <summary>kubectl's annotation handling: the Deployment keeps the ones it owns, the rest come from the ReplicaSet.</summary>
    private static JsonObject RolledBackAnnotations(V1Deployment deployment, V1ReplicaSet healthy)
    {
        var annotations = new JsonObject();
        foreach (var (key, value) in deployment.Metadata.Annotations ?? new Dictionary<string, string>())
        {
            if (AnnotationsToSkip.Contains(key))
            {
                annotations[key] = value;
            }
        }
        foreach (var (key, value) in healthy.Metadata.Annotations ?? new Dictionary<string, string>())
        {
            if (!AnnotationsToSkip.Contains(key))
            {
                annotations[key] = value;
            }
        }
        return annotations;
    }

    private ActionPlan PlanUndo(WorkloadTarget target, V1Deployment deployment, V1ReplicaSet healthy, long currentRevision)
    {
        var template = JsonNode.Parse(KubernetesJson.Serialize(healthy.Spec.Template))!.AsObject();
        template["metadata"]?["labels"]?.AsObject().Remove(PodTemplateHashLabel);
        var annotations = RolledBackAnnotations(deployment, healthy);
        var resourceVersion = deployment.Metadata.ResourceVersion;
        var patch = new JsonArray
        {
            new JsonObject { ["op"] = "test", ["path"] = "/metadata/resourceVersion", ["value"] = resourceVersion },
            new JsonObject { ["op"] = "replace", ["path"] = "/spec/template", ["value"] = template },
            new JsonObject { ["op"] = "replace", ["path"] = "/metadata/annotations", ["value"] = annotations },
        };
        var healthyRevision = DeploymentRevisions.Of(healthy);
        return new ActionPlan
        {
            Action = Name,
            Target = target,
            Summary = $"rollout undo deployment/{target.Name} -n {target.Namespace} --to-revision={healthyRevision} (from revision {currentRevision}: {Images(deployment.Spec.Template)} → {Images(healthy.Spec.Template)})",
            Mutations =
            [
                new Mutation
                {
                    Kind = MutationKind.PatchDeployment, Namespace = target.Namespace, Name = target.Name,
                    PatchType = "json", Patch = patch.ToJsonString(), ResourceVersion = resourceVersion,
                    Description = $"replace spec.template with revision {healthyRevision}'s ({healthy.Metadata.Name})",
                },
            ],
            PriorState = new JsonObject
            {
                ["resourceVersion"] = resourceVersion,
                ["revision"] = currentRevision,
                ["images"] = Images(deployment.Spec.Template),
                ["template"] = JsonNode.Parse(KubernetesJson.Serialize(deployment.Spec.Template)),
                ["rollbackTo"] = new JsonObject { ["revision"] = healthyRevision, ["replicaSet"] = healthy.Metadata.Name, ["images"] = Images(healthy.Spec.Template) },
            },
            Verify = new VerificationSpec { RolloutComplete = true, Deployment = target.Name },
        };
    }

    private static string Images(V1PodTemplateSpec template) => string.Join(",", template.Spec.Containers.Select(c => c.Image));

    /// <summary>kubectl's equalIgnoreHash: templates equal once the pod-template-hash label is dropped.</summary>
    public static bool EqualIgnoringHash(V1PodTemplateSpec a, V1PodTemplateSpec b) =>
        JsonNode.DeepEquals(WithoutHash(a), WithoutHash(b));

    private static JsonNode? WithoutHash(V1PodTemplateSpec template)
    {
        var node = JsonNode.Parse(KubernetesJson.Serialize(template));
        if (node?["metadata"]?["labels"] is JsonObject labels)
        {
            labels.Remove(PodTemplateHashLabel);
        }
        return node;
    }
}
