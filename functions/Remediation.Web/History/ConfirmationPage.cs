using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Remediation.Storage;

namespace Remediation.Http.History;

/// <summary>What the confirmation page of a link shows: the incident, the link's verb and token, the form's anti-forgery token.</summary>
public sealed record ConfirmationView(IncidentRecord Incident, string Verb, string Token, ApprovalForms Forms, DateTimeOffset Now);

/// <summary>Renders <see cref="ConfirmationDocument"/> to static HTML, as the history page is rendered.</summary>
public static class ConfirmationPage
{
    public static async Task<string> RenderAsync(IServiceProvider services, ConfirmationView view, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(view);
        cancellationToken.ThrowIfCancellationRequested();
        await using var renderer = new HtmlRenderer(services, services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance);
        return await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var root = await renderer.RenderComponentAsync<ConfirmationDocument>(
                ParameterView.FromDictionary(new Dictionary<string, object?> { [nameof(ConfirmationDocument.View)] = view }));
            return root.ToHtmlString();
        }).ConfigureAwait(false);
    }
}
