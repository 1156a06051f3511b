using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Approvals;
using Remediation.Http;

namespace Remediation.Host;

/// <summary>The standalone host's routes for answering requests for approval (the rules are ApprovalService's).</summary>
public static class ApprovalRoutes
{
    /// <summary>The API under the authenticated /api group; the page's forms and the links' confirmation page under the page's group.</summary>
    public static void Map(RouteGroupBuilder api, RouteGroupBuilder ui)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(ui);
        // After each group's authentication filter (added first, so it runs first): the caller's principal, named only
        // when the request was authenticated (an anonymous page names nobody, whatever its headers say).
        api.AddEndpointFilter((context, next) => Named(context, anonymous: false, next));
        ui.AddEndpointFilter((context, next) =>
            Named(context, context.HttpContext.RequestServices.GetRequiredService<HistoryPageOptions>().AllowAnonymous, next));
        foreach (var (verb, name) in new[] { (ApprovalVerb.Approve, "approve"), (ApprovalVerb.Reject, "reject") })
        {
            api.MapPost($"/remediations/{{id}}/{name}", (HttpRequest request, string id, ApprovalEndpoints endpoints, CancellationToken ct) =>
                ApprovalEndpoints.GuardedAsync(() => endpoints.AnswerAsync(request, id, verb, ct)));
            ui.MapPost($"/ui/remediations/{{id}}/{name}", (HttpRequest request, string id, ApprovalEndpoints endpoints, CancellationToken ct) =>
                ApprovalEndpoints.GuardedAsync(() => endpoints.FormAsync(request, id, verb, ct)));
        }
        ui.MapGet("/ui/approvals/{id}", (HttpRequest request, string id, ApprovalEndpoints endpoints, CancellationToken ct) => endpoints.ConfirmAsync(request, id, ct));
    }

    private static ValueTask<object?> Named(EndpointFilterInvocationContext context, bool anonymous, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var auth = http.RequestServices.GetRequiredService<WebhookAuthOptions>();
        http.User = CallerPrincipal.Of(http, anonymous || auth.AllowAnonymous);
        return next(context);
    }

    /// <summary>A malformed signing key or public URL stops the host at start, named.</summary>
    public static void CheckSettings(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        try
        {
            _ = services.GetRequiredService<ApprovalLinks>();
        }
        catch (ArgumentException ex)
        {
            throw new HostSettingsException(ex.Message);
        }
    }
}
