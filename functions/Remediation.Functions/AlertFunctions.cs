using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Remediation.Http;

namespace Remediation.Functions;

/// <summary>HTTP triggers: thin wrappers over the shared <see cref="AlertEndpoints"/>. Function keys authenticate.</summary>
public sealed class AlertFunctions(AlertEndpoints endpoints)
{
    [Function(nameof(AlertmanagerWebhook))]
    public async Task<IActionResult> AlertmanagerWebhook(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "alerts/alertmanager")] HttpRequest request,
        CancellationToken cancellationToken) =>
        new ResultAction(await endpoints.AlertmanagerAsync(request, cancellationToken).ConfigureAwait(false));

    [Function(nameof(AzureMonitorWebhook))]
    public async Task<IActionResult> AzureMonitorWebhook(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "alerts/azuremonitor")] HttpRequest request,
        CancellationToken cancellationToken) =>
        new ResultAction(await endpoints.AzureMonitorAsync(request, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// Event Grid / CloudEvents. The OPTIONS abuse-protection handshake is answered here too; Event Grid calls the
    /// subscription's endpoint URL, which carries the function key (?code=), for both the handshake and deliveries.
    /// </summary>
    [Function(nameof(EventGridWebhook))]
    public async Task<IActionResult> EventGridWebhook(
        [HttpTrigger(AuthorizationLevel.Function, "post", "options", Route = "alerts/eventgrid")] HttpRequest request,
        CancellationToken cancellationToken) =>
        new ResultAction(HttpMethods.IsOptions(request.Method)
            ? EventGridEndpoints.Handshake(request)
            : await endpoints.EventGridAsync(request, cancellationToken).ConfigureAwait(false));

    [Function(nameof(ListRemediations))]
    public async Task<IActionResult> ListRemediations(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "remediations")] HttpRequest request,
        CancellationToken cancellationToken) =>
        new ResultAction(await endpoints.ListAsync(request, cancellationToken).ConfigureAwait(false));
}

/// <summary>Runs an ASP.NET Core <see cref="IResult"/> as an MVC action result.</summary>
internal sealed class ResultAction(IResult result) : IActionResult
{
    public Task ExecuteResultAsync(ActionContext context) => result.ExecuteAsync(context.HttpContext);
}
