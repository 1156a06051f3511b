using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Remediation.Approvals;
using Remediation.Http;

namespace Remediation.Functions;

/// <summary>
/// POST /api/remediations/{id}/approve and /reject: thin wrappers over the shared <see cref="ApprovalEndpoints"/>. The
/// function key admits the caller; the answer is recorded under the principal the platform authenticated
/// (HttpContext.User). A caller with a key only, naming no person, is refused (403), so nothing is approved anonymously.
/// </summary>
public sealed class ApprovalFunctions(ApprovalEndpoints endpoints)
{
    [Function(nameof(ApproveRemediation))]
    public async Task<IActionResult> ApproveRemediation(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "remediations/{id}/approve")] HttpRequest request, string id,
        CancellationToken cancellationToken) =>
        new ResultAction(await AnswerAsync(request, id, ApprovalVerb.Approve, cancellationToken).ConfigureAwait(false));

    [Function(nameof(RejectRemediation))]
    public async Task<IActionResult> RejectRemediation(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "remediations/{id}/reject")] HttpRequest request, string id,
        CancellationToken cancellationToken) =>
        new ResultAction(await AnswerAsync(request, id, ApprovalVerb.Reject, cancellationToken).ConfigureAwait(false));

    private Task<IResult> AnswerAsync(HttpRequest request, string id, ApprovalVerb verb, CancellationToken cancellationToken) =>
        WebhookRequestGuard.Check(request) is { } refused
            ? Task.FromResult(refused)
            : ApprovalEndpoints.GuardedAsync(() => endpoints.AnswerAsync(request, id, verb, cancellationToken));
}
