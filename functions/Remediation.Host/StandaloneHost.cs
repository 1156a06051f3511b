using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;
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
        // Scopes carry the incident id (and, with ActivityTrackingOptions, the trace id) into every log line.
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; o.IncludeScopes = true; });
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        // The framework's request lines carry the full URL (query strings included) at Information: off; RequestLog
        // writes one redacted line per request instead.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        var auth = builder.Configuration.GetSection(WebhookAuthOptions.SectionName).Get<WebhookAuthOptions>() ?? new WebhookAuthOptions();
        CheckSettings(auth);
        builder.Services.AddRemediationCore(builder.Configuration);
        builder.Services.AddRemediationEndpoints();
        builder.Services.AddIngestLimit();
        builder.Services.AddSingleton(auth);
        builder.Services.AddSingleton<WebhookAuthenticator>();
        builder.Services.AddEntraIdAuthentication(auth.EntraId);
        builder.Services.AddSingleton(builder.Configuration.GetSection(HistoryPageOptions.SectionName).Get<HistoryPageOptions>() ?? new HistoryPageOptions());
        builder.Services.AddSingleton<HistoryPage>();
        builder.Services.AddAntiforgery();
        builder.Services.AddSingleton<MetricsExposition>();
        builder.Services.AddSingleton(builder.Configuration.GetSection(HostRunOptions.SectionName).Get<HostRunOptions>() ?? new HostRunOptions());
        if (builder.Configuration.GetValue("Remediation:Host:Worker", true))
        {
            builder.Services.AddHostedService<QueueWorker>();
            builder.Services.AddHostedService<SweepTimer>();
        }
        // Kestrel's limits; what they refuse inside the pipeline (413, 408, 400) becomes problem+json in ClientErrors.
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = RequestBody.MaxBytes + 1);
        configureServices?.Invoke(builder.Services);
        LogRedaction.WrapLoggerProviders(builder.Services);

        var app = builder.Build();
        app.Use(HttpEdges.RequestLogAsync);
        app.Use(HttpEdges.ClientErrorsAsync);
        app.UseStatusCodePages(HttpEdges.EmptyErrorAsync);
        app.UseRateLimiter();
        // Fail fast on bad settings (one line naming each) and on a bad policy file: check them before anything starts.
        if (OptionsRegistration.StartupProblem(app.Services) is { } problem)
        {
            ((IDisposable)app).Dispose();
            throw new HostSettingsException(problem);
        }
        _ = app.Services.GetRequiredService<Policy.PolicyProvider>();
        ApprovalRoutes.CheckSettings(app.Services);
        // Listen from the start, so /metrics counts everything since the host started.
        _ = app.Services.GetRequiredService<MetricsExposition>();
        MapEndpoints(app);
        return app;
    }

    private static void MapEndpoints(WebApplication app)
    {
        var api = app.MapGroup("/api");
        api.AddEndpointFilter(async (context, next) =>
        {
            // Cross-site browser posts and non-JSON bodies are refused before any credential is looked at.
            if (HttpMethods.IsPost(context.HttpContext.Request.Method) && WebhookRequestGuard.Check(context.HttpContext.Request) is { } refused)
            {
                return refused;
            }
            var authenticator = context.HttpContext.RequestServices.GetRequiredService<WebhookAuthenticator>();
            if (await authenticator.CheckAsync(context.HttpContext.Request, context.HttpContext.RequestAborted).ConfigureAwait(false) is { } failure)
            {
                return failure.ToResult(context.HttpContext, authenticator.Challenge);
            }
            return await next(context).ConfigureAwait(false);
        });
        api.MapPost("/alerts/alertmanager", (HttpRequest request, AlertEndpoints endpoints, CancellationToken ct) => endpoints.AlertmanagerAsync(request, ct))
            .RequireRateLimiting(IngestLimit.Policy);
        api.MapPost("/alerts/azuremonitor", (HttpRequest request, AlertEndpoints endpoints, CancellationToken ct) => endpoints.AzureMonitorAsync(request, ct))
            .RequireRateLimiting(IngestLimit.Policy);
        api.MapPost("/alerts/eventgrid", (HttpRequest request, AlertEndpoints endpoints, CancellationToken ct) => endpoints.EventGridAsync(request, ct))
            .RequireRateLimiting(IngestLimit.Policy);
        // CloudEvents abuse-protection handshake: outside the authenticated group by design (see EventGridEndpoints.Handshake).
        app.MapMethods("/api/alerts/eventgrid", [HttpMethods.Options],
            (HttpRequest request, WebhookAuthOptions auth) => EventGridEndpoints.Handshake(request, auth.AllowedWebHookOrigins));
        api.MapGet("/remediations", (HttpRequest request, AlertEndpoints endpoints, CancellationToken ct) => endpoints.ListAsync(request, ct));
        app.MapGet("/healthz", () => Results.Text("ok"));

        // Prometheus scrape endpoint: aggregate counters and latency histograms only (labels: source, status,
        // action, outcome, state; no incident data), so it is served without authentication, like most exporters.
        app.MapMetrics("/metrics", app.Services.GetRequiredService<MetricsExposition>().Registry);

        // The read-only history page shows operational data: same authentication as the API unless
        // Remediation:Ui:AllowAnonymous is set (see HistoryPageOptions).
        var ui = app.MapGroup("");
        ui.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var options = http.RequestServices.GetRequiredService<HistoryPageOptions>();
            if (!options.Enabled)
            {
                return Results.NotFound();
            }
            if (!options.AllowAnonymous)
            {
                var authenticator = http.RequestServices.GetRequiredService<WebhookAuthenticator>();
                if (await authenticator.CheckAsync(http.Request, http.RequestAborted).ConfigureAwait(false) is { } failure)
                {
                    return failure.ToResult(http, authenticator.Challenge, "Authorization");
                }
            }
            return await next(context).ConfigureAwait(false);
        });
        ui.MapGet("/", (HttpRequest request, HistoryPage page, CancellationToken ct) => page.RenderAsync(request, ct));
        ui.MapGet("/ui", (HttpRequest request, HistoryPage page, CancellationToken ct) => page.RenderAsync(request, ct));
        ApprovalRoutes.Map(api, ui);
    }

    /// <summary>
    /// The webhook credentials the host cannot start without, checked before anything is built (the core's settings are
    /// validated as options once the services are built): a <see cref="HostSettingsException"/> names what to set.
    /// </summary>
    private static void CheckSettings(WebhookAuthOptions auth)
    {
        if (auth.Problem() is { } problem)
        {
            throw new HostSettingsException(problem);
        }
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
                await processor.ProcessAsync(message.Body.ToString(), message.DequeueCount, cancellationToken).ConfigureAwait(false);
                await queue.CompleteAsync(message, cancellationToken).ConfigureAwait(false);
                handled++;
            }
        }
    }
}

/// <summary>
/// Remediation:Ui — the history page at GET / and /ui. It shows operational data (targets, diagnoses, prior state), so
/// by default it takes the same credentials as the API (Bearer or Basic; browsers prompt for Basic on the 401).
/// <see cref="AllowAnonymous"/> serves it without authentication, for a host reachable only from a trusted network.
/// </summary>
public sealed class HistoryPageOptions
{
    public const string SectionName = "Remediation:Ui";
    public bool Enabled { get; set; } = true;
    public bool AllowAnonymous { get; set; }
}
