using Microsoft.Extensions.DependencyInjection;
using Remediation.Approvals;
using Remediation.Diagnosis;
using Remediation.Pipeline;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using static Remediation.Tests.Approvals.ReviewSupport;

namespace Remediation.Tests.Approvals;

/// <summary>
/// Approve racing reject racing the deadline, 1,000 times: each incident ends with exactly one recorded outcome, the
/// losers are told so (409), and nothing is ever written to the cluster after a reject or the deadline.
/// </summary>
[Collection(LongRunningAzuriteCollection.Name)]
public sealed class ApprovalRacePropertyTests(AzuriteFixture storage)
{
    private const int Trials = 1000;

    private const string Policy = """
        allow:
          namespaces: [shop]
        limits:
          cooldown: 1s
          window: 1s
          maxConcurrent: 100000
          breakerFailures: 100000
        approval:
          deadline: 1m
          approvers: [alice@example.com]
        rules:
          - name: restart-crash-loops
            when:
              classes: [CrashLoop]
            action: restart
            mode: approve
        """;

    [Fact]
    public async Task Approve_reject_and_deadline_racing_end_in_exactly_one_outcome_and_no_write_after_a_reject_or_the_deadline()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "crashloop-no-change.yaml", Policy, FixedDiagnoser.Of(FailureClass.CrashLoop));
        var service = harness.Services.GetRequiredService<ApprovalService>();
        var pipeline = harness.Services.GetRequiredService<RemediationPipeline>();
        var wins = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var trial = 0; trial < Trials; trial++)
        {
            var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "worker", startsAt: harness.Time.GetUtcNow(), fingerprint: $"race-{trial}"));
            Assert.Equal(IncidentState.AwaitingApproval, incident.State);
            var plan = PlanOf(incident);
            harness.Cluster.ClearRequests();
            var deadlineFirst = trial % 3 == 0;
            var approve = Task.Run(() => service.DecideAsync(incident.IncidentId, ApprovalVerb.Approve, Approver, [], null));
            var reject = Task.Run(() => service.DecideAsync(incident.IncidentId, ApprovalVerb.Reject, Approver, [], null));
            var expire = Task.Run(async () =>
            {
                if (deadlineFirst)
                {
                    harness.Time.SetUtcNow(incident.ApprovalDeadline!.Value);
                }
                return await pipeline.ProcessAsync(new WorkItem(incident.IncidentId));
            });
            await Task.WhenAll(approve, reject, expire);
            await harness.DrainAsync();

            var final = (await harness.Store.GetAsync(incident.IncidentId))!;
            var approved = (await approve).Status == ApprovalAnswerStatus.Approved;
            var rejected = (await reject).Status == ApprovalAnswerStatus.Rejected;
            var timedOut = final.State == IncidentState.Escalated && final.OutcomeReason!.StartsWith("approval timed out", StringComparison.Ordinal);
            Assert.True((approved ? 1 : 0) + (rejected ? 1 : 0) + (timedOut ? 1 : 0) == 1,
                $"trial {trial}: approve {(await approve).Status}, reject {(await reject).Status}, final {final.State} ({final.OutcomeReason})");
            Assert.All(new[] { await approve, await reject }.Where(a => a.Status is not (ApprovalAnswerStatus.Approved or ApprovalAnswerStatus.Rejected)),
                a => Assert.Equal(ApprovalAnswerStatus.Conflict, a.Status));
            if (approved)
            {
                AssertAppliedExactly(plan, harness.Cluster.Requests);
                Assert.Equal(Approver, final.AnsweredBy);
            }
            else
            {
                Assert.DoesNotContain(harness.Cluster.Requests, r => r.IsMutating);
                Assert.Equal(rejected ? IncidentState.Refused : IncidentState.Escalated, final.State);
            }
            var winner = approved ? "approve" : rejected ? "reject" : "deadline";
            wins[winner] = wins.GetValueOrDefault(winner) + 1;
            if (approved)
            {
                // The approved remediation leads its workload's incident group until verified: verify it, so the next
                // trial's alert is a new remediation, not an alert joining this one's group.
                await VerifyToTheEndAsync(harness, incident.IncidentId);
            }
            harness.Time.Advance(TimeSpan.FromMinutes(2));
        }
        // Every kind of outcome happened: the race was a race.
        Assert.True(wins.Count == 3, string.Join(", ", wins.Select(w => $"{w.Key} {w.Value}")));
    }

    private static async Task VerifyToTheEndAsync(PipelineHarness harness, string incidentId)
    {
        var verifier = harness.Services.GetRequiredService<Remediation.Verification.RemediationVerifier>();
        for (var attempt = 0; attempt < 60; attempt++)
        {
            harness.Time.Advance(TimeSpan.FromMinutes(1));
            if ((await verifier.VerifyScheduledAsync(incidentId)).State is { } state && IncidentLifecycle.IsTerminal(state))
            {
                return;
            }
        }
        Assert.Fail($"incident {incidentId} was not verified within an hour of simulated time");
    }
}
