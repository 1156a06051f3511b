using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Approvals;
using Remediation.Pipeline;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using static Remediation.Tests.Approvals.ReviewSupport;

namespace Remediation.Tests.Approvals;

/// <summary>
/// Mode approve on the simulator with simulated time: the plan is recorded and waits; what runs is exactly what was
/// approved, or nothing (rejected, timed out, or the cluster changed since the plan, which asks again).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReviewModeTests(AzuriteFixture storage)
{
    [Fact]
    public async Task Approved_plan_is_applied_exactly_as_recorded_verified_and_recorded_with_the_approver()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", RollbackPolicy);
        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "checkout"));

        Assert.Equal(IncidentState.AwaitingApproval, incident.State);
        Assert.DoesNotContain(harness.Cluster.Requests, r => r.IsMutating);
        var plan = PlanOf(incident);
        Assert.Equal(PlanDigest.Of(plan), incident.PlanDigest);
        Assert.Equal(PipelineHarness.Start + TimeSpan.FromMinutes(30), incident.ApprovalDeadline);
        Assert.Equal("roll-back-bad-rollouts", incident.ApprovalRule);

        var answer = await harness.Services.GetRequiredService<ApprovalService>().DecideAsync(incident.IncidentId, ApprovalVerb.Approve, Approver, [], "checked the diff");
        Assert.Equal(ApprovalAnswerStatus.Approved, answer.Status);
        await harness.DrainAsync();

        AssertAppliedExactly(plan, harness.Cluster.Requests);
        await harness.AdvanceAsync(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10));
        await harness.SweepAsync();
        var done = (await harness.Store.GetAsync(incident.IncidentId))!;
        Assert.Equal(IncidentState.Succeeded, done.State);
        Assert.Equal((Approver, "approve", "checked the diff"), (done.AnsweredBy, done.AnswerVerb, done.AnswerComment));
        Assert.Equal(PipelineHarness.Start, done.AnsweredAt);
        var row = await harness.Store.GetStepAsync(incident.IncidentId, "answer-1");
        Assert.Equal((Approver, "approve", incident.PlanDigest), (row!.Worker, row.Outcome, row.PlanDigest));
        // Approving again changes nothing.
        var again = await harness.Services.GetRequiredService<ApprovalService>().DecideAsync(incident.IncidentId, ApprovalVerb.Approve, Approver, [], null);
        Assert.Equal(ApprovalAnswerStatus.Conflict, again.Status);
        Assert.Contains("answered already", again.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rejected_plan_applies_nothing_and_records_who_and_why()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", RollbackPolicy);
        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "checkout"));

        var answer = await harness.Services.GetRequiredService<ApprovalService>().DecideAsync(incident.IncidentId, ApprovalVerb.Reject, "bob", ["sre"], "release is being fixed forward");
        Assert.Equal(ApprovalAnswerStatus.Rejected, answer.Status);
        await harness.DrainAsync();

        var done = (await harness.Store.GetAsync(incident.IncidentId))!;
        Assert.Equal(IncidentState.Refused, done.State);
        Assert.Equal("rejected by bob: release is being fixed forward", done.OutcomeReason);
        Assert.DoesNotContain(harness.Cluster.Requests, r => r.IsMutating);
        var approve = await harness.Services.GetRequiredService<ApprovalService>().DecideAsync(incident.IncidentId, ApprovalVerb.Approve, Approver, [], null);
        Assert.Equal(ApprovalAnswerStatus.Conflict, approve.Status);
        Assert.DoesNotContain(harness.Cluster.Requests, r => r.IsMutating);
    }

    [Fact]
    public async Task Unanswered_request_is_escalated_at_its_deadline_and_a_late_approval_is_refused()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", RollbackPolicy);
        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "checkout"));
        var pipeline = harness.Services.GetRequiredService<RemediationPipeline>();

        // The deadline's work item is queued (invisible until then); processed early it leaves the request waiting.
        Assert.True(await harness.Services.GetRequiredService<WorkQueue>().ApproximateCountAsync() >= 1);
        Assert.Equal(IncidentState.AwaitingApproval, (await pipeline.ProcessAsync(new WorkItem(incident.IncidentId))).State);
        harness.Time.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(IncidentState.Escalated, (await pipeline.ProcessAsync(new WorkItem(incident.IncidentId))).State);

        var late = await harness.Services.GetRequiredService<ApprovalService>().DecideAsync(incident.IncidentId, ApprovalVerb.Approve, Approver, [], null);
        Assert.Equal(ApprovalAnswerStatus.Conflict, late.Status);
        await harness.DrainAsync();
        var done = (await harness.Store.GetAsync(incident.IncidentId))!;
        Assert.Equal(IncidentState.Escalated, done.State);
        Assert.StartsWith("approval timed out", done.OutcomeReason, StringComparison.Ordinal);
        Assert.Null(done.AnsweredBy);
        Assert.DoesNotContain(harness.Cluster.Requests, r => r.IsMutating);
    }

    [Fact]
    public async Task Cluster_changed_between_plan_and_approval_applies_nothing_and_asks_again_saying_what_changed()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", RollbackPolicy);
        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "checkout"));
        var first = PlanOf(incident);

        // Someone changes the deployment after the plan was made.
        var kubernetes = harness.Services.GetRequiredService<IKubernetes>();
        var patch = new V1Patch("""{"metadata":{"annotations":{"owner":"someone-else"}}}""", V1Patch.PatchType.MergePatch);
        await kubernetes.AppsV1.PatchNamespacedDeploymentAsync(patch, "checkout", "shop");
        harness.Cluster.ClearRequests();

        var approval = harness.Services.GetRequiredService<ApprovalService>();
        Assert.Equal(ApprovalAnswerStatus.Approved, (await approval.DecideAsync(incident.IncidentId, ApprovalVerb.Approve, Approver, [], null)).Status);
        await harness.DrainAsync();

        Assert.DoesNotContain(harness.Cluster.Requests, r => r.IsMutating);
        var asked = (await harness.Store.GetAsync(incident.IncidentId))!;
        Assert.Equal(IncidentState.AwaitingApproval, asked.State);
        Assert.Equal(2, asked.ApprovalRound);
        Assert.NotEqual(incident.PlanDigest, asked.PlanDigest);
        Assert.Contains($"Deployment shop/checkout resourceVersion {first.Mutations[0].ResourceVersion} -> ", asked.ApprovalReason, StringComparison.Ordinal);
        Assert.Contains("The new plan:", asked.ApprovalReason, StringComparison.Ordinal);
        Assert.Null(asked.AnsweredBy);

        // The new plan, approved, runs exactly.
        Assert.Equal(ApprovalAnswerStatus.Approved, (await approval.DecideAsync(incident.IncidentId, ApprovalVerb.Approve, Approver, [], null)).Status);
        await harness.DrainAsync();
        AssertAppliedExactly(PlanOf(asked), harness.Cluster.Requests);
        Assert.Equal(IncidentState.Verifying, (await harness.Store.GetAsync(incident.IncidentId))!.State);
    }
}
