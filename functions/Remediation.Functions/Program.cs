using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Remediation;
using Remediation.Hosting;
using Remediation.Http;

var builder = FunctionsApplication.CreateBuilder(args);
// The trigger attributes bind these settings (%...%); a missing or malformed one stops the worker here, named.
Remediation.Functions.FunctionSettings.Validate(builder.Configuration);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddRemediationCore(builder.Configuration);
builder.Services.AddRemediationEndpoints();

// OpenTelemetry: the product's spans (ingest → queue → diagnose/decide/act, linked by the work item's traceparent),
// its meter (alerts, duplicates, actions by type and outcome, decisions, latencies) and logs with their scopes
// (incident id), exported to Azure Monitor when the app has an Application Insights connection string.
var telemetry = builder.Services.AddOpenTelemetry()
    .UseFunctionsWorkerDefaults()
    .WithTracing(tracing => tracing.AddSource(RemediationMetrics.Name))
    .WithMetrics(metrics => metrics.AddMeter(RemediationMetrics.Name));
builder.Logging.AddOpenTelemetry(logging => logging.IncludeScopes = true);
if (!string.IsNullOrEmpty(builder.Configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"]))
{
    // Application Insights has local (key) auth disabled: ingestion authenticates with the app's managed identity.
    var clientId = builder.Configuration["AZURE_CLIENT_ID"];
    telemetry.UseAzureMonitorExporter(options =>
    {
        if (!string.IsNullOrEmpty(clientId))
        {
            options.Credential = new Azure.Identity.ManagedIdentityCredential(Azure.Identity.ManagedIdentityId.FromUserAssignedClientId(clientId));
        }
    });
}

var app = builder.Build();
// The core's settings (Remediation:*), validated as options: a bad one stops the worker here, named, before any trigger runs.
if (OptionsRegistration.StartupProblem(app.Services) is { } problem)
{
    throw new InvalidOperationException(problem);
}
await app.RunAsync().ConfigureAwait(false);
