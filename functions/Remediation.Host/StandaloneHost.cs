using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Remediation.Hosting;
using Remediation.Http;
using Remediation.Pipeline;

namespace Remediation.Host;

/// <summary>
/// The standalone host: Kestrel on 127.0.0.1:7071 by default, the same endpoints as the Functions app
/// (under /api), the queue worker and the verification timer, all through the same core code.
/// </summary>
public static class StandaloneHost
{
    public const string DefaultUrl = "http://127.0.0.1:7071";

    public static WebApplication Build(string[] args, IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddEnvironmentVariables();
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        builder.Services.AddRemediationCore(builder.Configuration);
        var auth = builder.Configuration.GetSection(WebhookAuthOptions.SectionName).Get<WebhookAuthOptions>() ?? new WebhookAuthOptions();
        if (!auth.HasCredentials && !auth.AllowAnonymous)
        {
            throw new InvalidOperationException(
                "no webhook credentials configured: set Remediation:Auth:BearerTokens:0 (or BasicUsername + BasicPasswords:0), or Remediation:Auth:AllowAnonymous=true for local experiments");
        }
        builder.Services.AddSingleton(auth);
        builder.Services.AddSingleton<WebhookAuthenticator>();
        builder.Services.AddSingleton(builder.Configuration.GetSection(HostRunOptions.SectionName).Get<HostRunOptions>() ?? new HostRunOptions());
        if (builder.Configuration.GetValue("Remediation:Host:Worker", true))
        {
            builder.Services.AddHostedService<QueueWorker>();
            builder.Services.AddHostedService<SweepTimer>();
        }
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = RequestBody.MaxBytes + 1);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        // Fail fast on a bad policy file: resolve it at start.
        _ = app.Services.GetRequiredService<Policy.PolicyProvider>();
        MapEndpoints(app);
        return app;
    }

    private static void MapEndpoints(WebApplication app)
    {
        var api = app.MapGroup("/api");
        api.AddEndpointFilter(async (context, next) =>
        {
            var authenticator = context.HttpContext.RequestServices.GetRequiredService<WebhookAuthenticator>();
            if (await authenticator.CheckAsync(context.HttpContext.Request, context.HttpContext.RequestAborted).ConfigureAwait(false) is { } failure)
            {
                if (failure.Status == 401)
                {
                    context.HttpContext.Response.Headers.WWWAuthenticate = authenticator.Challenge;
                }
                return ApiProblem.Result(failure.Status, failure.Status switch { 401 => "Unauthorized", 403 => "Forbidden", _ => "Payload Too Large" }, failure.Reason);
            }
            return await next(context).ConfigureAwait(false);
        });
        api.MapPost("/alerts/alertmanager", (HttpRequest request, AlertEndpoints endpoints, CancellationToken ct) => endpoints.AlertmanagerAsync(request, ct));
        api.MapPost("/alerts/azuremonitor", (HttpRequest request, AlertEndpoints endpoints, CancellationToken ct) => endpoints.AzureMonitorAsync(request, ct));
        api.MapPost("/alerts/eventgrid", (HttpRequest request, AlertEndpoints endpoints, CancellationToken ct) => endpoints.EventGridAsync(request, ct));
        // CloudEvents abuse-protection handshake: outside the authenticated group by design (see EventGridEndpoints.Handshake).
        app.MapMethods("/api/alerts/eventgrid", [HttpMethods.Options],
            (HttpRequest request, WebhookAuthOptions auth) => EventGridEndpoints.Handshake(request, auth.AllowedWebHookOrigins));
        api.MapGet("/remediations", (HttpRequest request, AlertEndpoints endpoints, CancellationToken ct) => endpoints.ListAsync(request, ct));
        app.MapGet("/healthz", () => Results.Text("ok"));
    }

    /// <summary>Runs the work queue once to empty, in-process (for the CLI's demo and for tests).</summary>
    public static async Task<int> DrainOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var queue = services.GetRequiredService<Storage.WorkQueue>();
        var processor = services.GetRequiredService<WorkItemProcessor>();
        var handled = 0;
        while (true)
        {
            var messages = await queue.ReceiveAsync(16, TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            if (messages.Length == 0)
            {
                return handled;
            }
            foreach (var message in messages)
            {
                await processor.ProcessAsync(message.Body.ToString(), cancellationToken).ConfigureAwait(false);
                await queue.CompleteAsync(message, cancellationToken).ConfigureAwait(false);
                handled++;
            }
        }
    }
}
