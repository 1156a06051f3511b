using System.Globalization;
using System.Text.Json.Nodes;
using Remediation.Cluster;
using Remediation.Kubernetes;
using Remediation.Policy;

namespace Remediation.Actions;

/// <summary>
/// Scale out by a bounded step, never past the policy's cap: raises the HPA's maxReplicas when an HPA
/// scales the Deployment, else the Deployment's replicas through the scale subresource. Revertible.
/// Parameters: step (default limits.scaleStep), max (default and ceiling limits.maxReplicas).
/// </summary>
public sealed class ScaleOutAction(IClusterReader reader) : IRemediationAction
{
    public string Name => ActionNames.ScaleOut;

    public async Task<ActionPlan> PlanAsync(ActionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var target = context.Target;
        var step = Parameter(context, "step", context.Limits.ScaleStep);
        var cap = Math.Min(Parameter(context, "max", context.Limits.MaxReplicas), context.Limits.MaxReplicas);
        var deployment = await reader.RequireDeploymentAsync(target, cancellationToken).ConfigureAwait(false);
        var hpa = await reader.HorizontalPodAutoscalerOfAsync(deployment, cancellationToken).ConfigureAwait(false);
        var verify = new VerificationSpec { RolloutComplete = true, Deployment = target.Name };
        if (hpa is not null)
        {
            var current = hpa.Spec.MaxReplicas;
            var next = Math.Min(current + step, cap);
            if (next <= current)
            {
                throw new ActionNotApplicableException($"HPA {hpa.Metadata.Name} is at maxReplicas {current}, the policy cap is {cap}");
            }
            return Plan(context, MutationKind.PatchHorizontalPodAutoscaler, hpa.Metadata.Name, hpa.Metadata.ResourceVersion,
                Patch(hpa.Metadata.ResourceVersion, "maxReplicas", next), Patch(null, "maxReplicas", current),
                $"raise HPA {hpa.Metadata.Name} maxReplicas {current} → {next} (cap {cap})",
                new JsonObject { ["kind"] = "HorizontalPodAutoscaler", ["name"] = hpa.Metadata.Name, ["maxReplicas"] = current, ["currentReplicas"] = hpa.Status?.CurrentReplicas, ["resourceVersion"] = hpa.Metadata.ResourceVersion },
                verify);
        }
        var replicas = deployment.Spec.Replicas ?? 1;
        var wanted = Math.Min(replicas + step, cap);
        if (wanted <= replicas)
        {
            throw new ActionNotApplicableException($"{target} has {replicas} replicas, the policy cap is {cap}");
        }
        return Plan(context, MutationKind.PatchDeploymentScale, target.Name, deployment.Metadata.ResourceVersion,
            Patch(deployment.Metadata.ResourceVersion, "replicas", wanted), Patch(null, "replicas", replicas),
            $"scale deployment/{target.Name} -n {target.Namespace} replicas {replicas} → {wanted} (cap {cap})",
            new JsonObject { ["kind"] = "Deployment", ["name"] = target.Name, ["replicas"] = replicas, ["resourceVersion"] = deployment.Metadata.ResourceVersion },
            verify);
    }

    private ActionPlan Plan(ActionContext context, MutationKind kind, string name, string resourceVersion, string patch, string revert, string summary, JsonObject prior, VerificationSpec verify) => new()
    {
        Action = Name,
        Target = context.Target,
        Summary = summary,
        Mutations = [new Mutation { Kind = kind, Namespace = context.Target.Namespace, Name = name, Patch = patch, ResourceVersion = resourceVersion, Description = summary }],
        Revert = [new Mutation { Kind = kind, Namespace = context.Target.Namespace, Name = name, Patch = revert, Description = $"restore {kind} {name} to its prior size" }],
        PriorState = prior,
        Verify = verify,
    };

    private static string Patch(string? resourceVersion, string field, int value)
    {
        var patch = new JsonObject { ["spec"] = new JsonObject { [field] = value } };
        if (resourceVersion is not null)
        {
            patch["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion };
        }
        return patch.ToJsonString();
    }

    private int Parameter(ActionContext context, string name, int fallback) => ActionParameters.Int(Name, context.Parameters, name, fallback);
}
