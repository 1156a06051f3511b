using System.Net;
using System.Text;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Hosting;

namespace Remediation.Host;

/// <summary>
/// Configuration and services for the read-only CLI commands (plan, replay, history): appsettings.json next to the
/// tool, then the environment (Remediation__Kubernetes__ServerUrl, ...), then the command's options, as the host reads them.
/// </summary>
public sealed record CliConnection(string? Storage, string? KubernetesServer, string? Kubeconfig, string? Context, string? Policy, string? Prometheus, string? IncidentsTable = null)
{
    public IConfiguration BuildConfiguration()
    {
        var overrides = new Dictionary<string, string?>();
        Set(overrides, "Remediation:Storage:ConnectionString", Storage);
        Set(overrides, "Remediation:Kubernetes:ServerUrl", KubernetesServer);
        Set(overrides, "Remediation:Kubernetes:KubeconfigPath", Kubeconfig);
        Set(overrides, "Remediation:Kubernetes:Context", Context);
        Set(overrides, "Remediation:PolicyPath", Policy is null ? null : Path.GetFullPath(Policy));
        Set(overrides, "Remediation:Prometheus:Url", Prometheus);
        Set(overrides, "Remediation:Storage:IncidentsTable", IncidentsTable);
        return new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(overrides)
            .Build();
    }

    /// <summary>True when storage is configured (option, environment or appsettings).</summary>
    public static bool HasStorage(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var storage = configuration.GetSection("Remediation:Storage");
        return !string.IsNullOrWhiteSpace(storage["ConnectionString"]) || !string.IsNullOrWhiteSpace(storage["TableServiceUri"]);
    }

    /// <summary>
    /// The core's services for planning. Without storage, the target ledger reads an empty table held in memory
    /// (no cooldown or action history), and nothing at all is written anywhere.
    /// </summary>
    public static ServiceProvider PlanningServices(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        if (!HasStorage(configuration))
        {
            services.AddSingleton(NoHistoryTable.Create());
        }
        services.AddRemediationCore(configuration);
        return services.BuildServiceProvider();
    }

    private static void Set(Dictionary<string, string?> overrides, string key, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            overrides[key] = value;
        }
    }
}

/// <summary>
/// A <see cref="TableClient"/> answered in memory by an empty table: the table "exists", every entity read is 404,
/// and any write is refused (405), so planning without storage provably writes nothing.
/// </summary>
public static class NoHistoryTable
{
    public static TableClient Create()
    {
        var options = new TableClientOptions { Transport = new HttpClientTransport(new EmptyTableHandler()) };
        options.Retry.MaxRetries = 0;
        return new TableServiceClient("UseDevelopmentStorage=true", options).GetTableClient("incidents");
    }

    private sealed class EmptyTableHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var isCreateTable = request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath.EndsWith("/Tables", StringComparison.Ordinal);
            var (status, code, message) = isCreateTable
                ? (HttpStatusCode.Conflict, "TableAlreadyExists", "The table specified already exists.")
                : request.Method == HttpMethod.Get
                    ? (HttpStatusCode.NotFound, "ResourceNotFound", "The specified resource does not exist.")
                    : (HttpStatusCode.MethodNotAllowed, "NotAllowed", "planning without storage writes nothing");
            var body = "{\"odata.error\":{\"code\":\"" + code + "\",\"message\":{\"lang\":\"en-US\",\"value\":\"" + message + "\"}}}";
            var response = new HttpResponseMessage(status)
            {
                RequestMessage = request,
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            response.Content.Headers.ContentType!.Parameters.Add(new System.Net.Http.Headers.NameValueHeaderValue("odata", "minimalmetadata"));
            response.Headers.Add("x-ms-error-code", code);
            return Task.FromResult(response);
        }
    }
}
