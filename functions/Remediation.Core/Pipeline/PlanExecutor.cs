using System.Net;
using Microsoft.Extensions.Logging;
using Remediation.Actions;
using Remediation.Cluster;
using Remediation.Storage;

namespace Remediation.Pipeline;

/// <summary>
/// The act stage: applies a plan's mutations through the cluster writer (the dry-run writer for a dry run). A mutation
/// whose precondition no longer holds is checked against the object: applied already (an earlier attempt) is success,
/// changed by someone else is a failure, and nothing is applied over their change.
/// </summary>
public sealed partial class PlanExecutor(IClusterReader reader, IClusterWriters writers, ILogger<PlanExecutor> logger)
{
    public async Task<(bool Applied, string? Failure)> ExecuteAsync(ActionPlan plan, bool dryRun, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var writer = writers.For(dryRun);
        foreach (var mutation in plan.Mutations)
        {
            try
            {
                await writer.ApplyAsync(mutation, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!dryRun && IsPreconditionFailure(ex, mutation))
            {
                // The object moved on since the plan. When an earlier attempt applied this mutation (a worker that died
                // before the reply, a reply lost and retried), the object has what the plan wrote: go on to verify it.
                // Otherwise someone else changed it, and nothing is applied over their change.
                var current = await reader.GetTargetOfAsync(mutation, cancellationToken).ConfigureAwait(false);
                if (!AppliedState.IsApplied(mutation, current))
                {
                    return (false, $"{mutation.Kind} {mutation.Namespace}/{mutation.Name} changed since it was planned ({ClusterCall.Describe(ex).Split(':')[0]}); not applied");
                }
                LogAlreadyApplied(mutation.Description);
            }
            catch (Exception ex) when (ex is k8s.Autorest.HttpOperationException or TransientDependencyException)
            {
                return (false, $"{mutation.Kind} {mutation.Namespace}/{mutation.Name} failed: {ClusterCall.Describe(ex.InnerException ?? ex)}");
            }
        }
        return (true, null);
    }

    /// <summary>409 (stale resourceVersion), 422 (a JSON-patch test failed) or, for a pod delete, 404: the precondition no longer holds.</summary>
    private static bool IsPreconditionFailure(Exception ex, Mutation mutation) =>
        ClusterCall.IsStatus(ex, HttpStatusCode.Conflict) || ClusterCall.IsStatus(ex, HttpStatusCode.UnprocessableEntity)
        || (mutation.Kind == MutationKind.DeletePod && ClusterCall.IsStatus(ex, HttpStatusCode.NotFound));

    [LoggerMessage(Level = LogLevel.Information, Message = "Already applied before the interruption: {Mutation}")]
    private partial void LogAlreadyApplied(string mutation);
}
