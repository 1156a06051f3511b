using System.Globalization;
using System.Text;

namespace Remediation.Benchmarks;

/// <summary>The approval section of the report and its row of the Targets table.</summary>
public sealed partial class BenchReport
{
    public ApprovalFigures? Approval { get; set; }

    private void ApprovalTargets(List<(string Name, string Target, string Measured, bool Met)> t)
    {
        if (Approval is not { } a)
        {
            return;
        }
        t.Add(("approval: approved → mutation acknowledged", "every approval acts", $"p50 {F(a.ToMutationMs.Percentile(50))} ms, p99 {F(a.ToMutationMs.Percentile(99))} ms; {a.Mutated}/{a.Incidents} acted",
            a.Mutated == a.Incidents));
    }

    private void ApprovalSection(StringBuilder b)
    {
        if (Approval is not { } a)
        {
            return;
        }
        b.AppendLine().AppendLine("## Approval: approve → mutation acknowledged").AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"Review mode: the policy restarts crash loops with `mode: approve` (approver alice, Basic auth). {a.Incidents} incidents, one at a time, on Deployments of the phase's own simulator; for each, the alert is posted, the bench polls until the incident is AwaitingApproval, then POSTs `/api/remediations/{{id}}/approve` as alice and polls the simulator's request log (every 1 ms) until the restart's mutating call is recorded. The approval moves the incident to Acting and queues it; the host's queue worker (in-process, polling) then runs exactly the recorded plan. One warm-up incident is not reported.").AppendLine();
        b.AppendLine("| | p50 ms | p99 ms |").AppendLine("|---|---|---|");
        b.AppendLine(CultureInfo.InvariantCulture, $"| alert posted → AwaitingApproval (diagnosed, planned, request recorded) | {F(a.AwaitingMs.Percentile(50))} | {F(a.AwaitingMs.Percentile(99))} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| POST approve answered (200) | {F(a.AnswerMs.Percentile(50))} | {F(a.AnswerMs.Percentile(99))} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| **approve sent → mutating call recorded by the cluster** | {F(a.ToMutationMs.Percentile(50))} | {F(a.ToMutationMs.Percentile(99))} |");
        b.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Approved {a.Approved}/{a.Incidents}; acted {a.Mutated}/{a.Incidents}.");
    }
}
