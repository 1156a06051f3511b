using System.Globalization;
using System.Text.Json.Nodes;
using Remediation.Cluster;
using Remediation.Kubernetes;
using Remediation.Policy;

namespace Remediation.Actions;

/// <summary>
/// `kubectl rollout restart`: sets spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"],
/// which makes the Deployment roll its pods. Refuses paused rollouts. When a single pod is stuck while the
/// others are ready, deleting that pod is the smaller step and is planned instead (parameter
/// smallestStep: "false" turns that off).
/// </summary>
public sealed class RolloutRestartAction(IClusterReader reader, TimeProvider timeProvider) : IRemediationAction
{
    public const string RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt";

    public string Name => ActionNames.Restart;

    public async Task<ActionPlan> PlanAsync(ActionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var target = context.Target;
        var deployment = await reader.RequireDeploymentAsync(target, cancellationToken).ConfigureAwait(false);
        if (ActionParameters.Bool(Name, context.Parameters, "smallestStep", true))
        {
            var pods = await reader.PodsOfAsync(deployment, cancellationToken).ConfigureAwait(false);
            if (DeletePodAction.PlanFor(context, pods, out _) is { } deletePod)
            {
                return deletePod;
            }
        }
        if (deployment.Spec.Paused == true)
        {
            throw new ActionNotApplicableException($"rollout of {target} is paused; a restart would not roll the pods");
        }
        var previous = deployment.Spec.Template.Metadata?.Annotations?.TryGetValue(RestartedAtAnnotation, out var value) == true ? value : null;
        var restartedAt = timeProvider.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ssK", CultureInfo.InvariantCulture);
        var resourceVersion = deployment.Metadata.ResourceVersion;
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion },
            ["spec"] = new JsonObject
            {
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [RestartedAtAnnotation] = restartedAt } },
                },
            },
        };
        return new ActionPlan
        {
            Action = Name,
            Target = target,
            Summary = $"rollout restart deployment/{target.Name} -n {target.Namespace} (restartedAt {restartedAt})",
            Mutations =
            [
                new Mutation
                {
                    Kind = MutationKind.PatchDeployment, Namespace = target.Namespace, Name = target.Name,
                    PatchType = "merge", Patch = patch.ToJsonString(), ResourceVersion = resourceVersion,
                    Description = $"set spec.template.metadata.annotations[{RestartedAtAnnotation}]={restartedAt}",
                },
            ],
            PriorState = new JsonObject
            {
                ["resourceVersion"] = resourceVersion,
                ["generation"] = deployment.Metadata.Generation,
                ["restartedAt"] = previous,
                ["replicas"] = deployment.Spec.Replicas,
            },
            Verify = new VerificationSpec { RolloutComplete = true, Deployment = target.Name },
        };
    }
}
