using k8s.Models;
using Remediation.Alerts;
using Remediation.Cluster;
using Remediation.Policy;

namespace Remediation.Actions;

/// <summary>What an action requires of its target before it plans (kept in Actions: the refusal is an action's, not the cluster port's).</summary>
public static class ActionTargets
{
    /// <summary>The Deployment, or an ActionNotApplicableException saying it is gone.</summary>
    public static async Task<V1Deployment> RequireDeploymentAsync(this IClusterReader reader, WorkloadTarget target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(target);
        if (target.Kind != WorkloadKinds.Deployment)
        {
            throw new ActionNotApplicableException($"{target.Describe()} is a {target.Kind}; this action acts on Deployments only");
        }
        return await reader.GetDeploymentAsync(target.Namespace, target.Name, cancellationToken).ConfigureAwait(false)
            ?? throw new ActionNotApplicableException($"Deployment {target} no longer exists");
    }
}
