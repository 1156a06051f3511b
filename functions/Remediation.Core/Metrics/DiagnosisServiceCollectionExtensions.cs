using Azure.Core;
using Azure.Identity;
using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Remediation.Diagnosis;
using Remediation.Hosting;
using Remediation.Verification;

namespace Remediation.Metrics;

public static class DiagnosisServiceCollectionExtensions
{
    /// <summary>
    /// Registers the diagnoser and its data sources: Prometheus (Remediation:Prometheus:Url → Istio signals and
    /// <see cref="PrometheusHealthSignal"/>), Log Analytics (Remediation:LogAnalytics:WorkspaceId → Container insights),
    /// thresholds from Remediation:Diagnosis. Without them the diagnosis rests on the Kubernetes API alone.
    /// </summary>
    public static IServiceCollection AddRemediationDiagnosis(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var diagnosis = configuration.GetSection(DiagnosisOptions.SectionName).Get<DiagnosisOptions>() ?? new DiagnosisOptions();
        services.TryAddSingleton(diagnosis);

        var prometheus = configuration.GetSection(RemediationOptions.SectionName).GetSection("Prometheus").Get<PrometheusOptions>() ?? new PrometheusOptions();
        if (prometheus.Url is not null)
        {
            // One pooled handler for the process; connections are recycled so DNS changes are seen.
            services.TryAddSingleton(_ => new PrometheusHttp(new HttpClient(new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = TimeSpan.FromSeconds(5),
            })
            { Timeout = Timeout.InfiniteTimeSpan }));
            services.TryAddSingleton(sp => new PrometheusClient(sp.GetRequiredService<PrometheusHttp>().Client, prometheus, sp.GetRequiredService<TimeProvider>(),
                string.Equals(prometheus.Auth, "azure", StringComparison.OrdinalIgnoreCase) ? AzureCredential(configuration) : null));
            services.TryAddSingleton<IMeshSignals>(sp => new IstioSignals(sp.GetRequiredService<PrometheusClient>()));
            services.TryAddSingleton<IHealthSignal, PrometheusHealthSignal>();
        }

        var logAnalytics = configuration.GetSection(LogAnalyticsOptions.SectionName).Get<LogAnalyticsOptions>() ?? new LogAnalyticsOptions();
        if (!string.IsNullOrWhiteSpace(logAnalytics.WorkspaceId))
        {
            services.TryAddSingleton(logAnalytics);
            services.TryAddSingleton(sp => new LogAnalyticsClient(logAnalytics,
                string.IsNullOrEmpty(logAnalytics.ClientId) ? AzureCredential(configuration) : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(logAnalytics.ClientId)),
                sp.GetRequiredService<TimeProvider>()));
            services.TryAddSingleton<IContainerInsights>(sp => new LogAnalyticsContainerInsights(sp.GetRequiredService<LogAnalyticsClient>()));
        }

        services.TryAddSingleton<IDiagnoser>(sp => new KubernetesDiagnoser(
            sp.GetRequiredService<IKubernetes>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetService<IMeshSignals>(), sp.GetService<IContainerInsights>(), sp.GetRequiredService<DiagnosisOptions>()));
        services.TryAddSingleton<IHealthSignal, NoHealthSignal>();
        return services;
    }

    /// <summary>The storage identity's client id when one is configured (a user-assigned identity), else DefaultAzureCredential.</summary>
    private static TokenCredential AzureCredential(IConfiguration configuration)
    {
        var clientId = configuration[$"{RemediationOptions.SectionName}:Storage:ClientId"];
        return string.IsNullOrEmpty(clientId) ? new DefaultAzureCredential() : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
    }

    /// <summary>The process-wide HttpClient for Prometheus (a named holder so it does not collide with other HttpClient registrations).</summary>
    public sealed class PrometheusHttp(HttpClient client)
    {
        public HttpClient Client { get; } = client;
    }
}
