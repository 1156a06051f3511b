using System.Text.Json;
using System.Text.Json.Nodes;
using Remediation.Actions;
using Remediation.ClusterSimulator;
using Remediation.Storage;

namespace Remediation.Tests.Approvals;

/// <summary>Policies and checks shared by the review-mode tests.</summary>
internal static class ReviewSupport
{
    public const string Approver = "alice@example.com";

    /// <summary>Roll back bad rollouts, each rollback approved by alice or the sre group within 30 minutes.</summary>
    public const string RollbackPolicy = """
        allow:
          namespaces: [shop]
        limits:
          verifySoak: 2s
          verifyDeadline: 2m
        approval:
          deadline: 30m
          approvers: [alice@example.com, group:sre]
        rules:
          - name: roll-back-bad-rollouts
            when:
              classes: [BadRollout]
            action: rollback
            mode: approve
        """;

    /// <summary>A base64 signing key of 32 bytes, for the signed links.</summary>
    public static readonly string SigningKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray());

    public static ActionPlan PlanOf(IncidentRecord incident) =>
        JsonSerializer.Deserialize(incident.PlanJson!, Remediation.Actions.ActionJsonContext.Default.ActionPlan)!;

    /// <summary>The committed writes are exactly the plan's mutations, in order, with the recorded patch bodies.</summary>
    public static void AssertAppliedExactly(ActionPlan plan, IEnumerable<RecordedRequest> requests)
    {
        var committed = requests.Where(r => r.Committed).ToList();
        Assert.Equal(plan.Mutations.Count, committed.Count);
        foreach (var (mutation, request) in plan.Mutations.Zip(committed))
        {
            Assert.Equal(mutation.Namespace, request.Namespace);
            Assert.Equal(mutation.Name, request.Name);
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(mutation.Patch!), JsonNode.Parse(request.Body!)), $"applied {request.Body}, approved {mutation.Patch}");
        }
    }
}
