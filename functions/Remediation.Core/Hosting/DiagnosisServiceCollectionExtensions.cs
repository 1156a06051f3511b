using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Remediation.Diagnosis;
using Remediation.Metrics;
using Remediation.Verification;

namespace Remediation.Hosting;

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
        services.AddRemediationOptions(configuration);
        services.AddRemediationHttpClients();

        // Which sources exist is decided by whether they are configured; their settings are validated where they are used.
        if (!string.IsNullOrWhiteSpace(configuration[PrometheusOptions.SectionName + ":Url"]))
        {
            services.TryAddSingleton(sp =>
            {
                var prometheus = sp.GetRequiredService<IOptions<PrometheusOptions>>().Value;
                return new PrometheusClient(sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientRegistration.Prometheus), prometheus, sp.GetRequiredService<TimeProvider>(),
                    string.Equals(prometheus.Auth, "azure", StringComparison.OrdinalIgnoreCase) ? ServiceCollectionExtensions.AzureIdentity(StorageClientId(sp)) : null);
            });
            services.TryAddSingleton<IMeshSignals>(sp => new IstioSignals(sp.GetRequiredService<PrometheusClient>()));
            services.TryAddSingleton<IHealthSignal, PrometheusHealthSignal>();
            services.TryAddSingleton<ServiceGraph.IServiceGraphSource>(sp => new PrometheusServiceGraphSource(sp.GetRequiredService<PrometheusClient>(),
                sp.GetRequiredService<DiagnosisOptions>().BaselineOffset is var offset && offset > TimeSpan.Zero ? offset : null));
        }

        if (!string.IsNullOrWhiteSpace(configuration[LogAnalyticsOptions.SectionName + ":WorkspaceId"]))
        {
            services.TryAddSingleton(sp =>
            {
                var logAnalytics = sp.GetRequiredService<LogAnalyticsOptions>();
                return new LogAnalyticsClient(logAnalytics,
                    ServiceCollectionExtensions.AzureIdentity(string.IsNullOrEmpty(logAnalytics.ClientId) ? StorageClientId(sp) : logAnalytics.ClientId),
                    sp.GetRequiredService<TimeProvider>(),
                    LogAnalyticsClientOptions.Over(sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientRegistration.LogAnalytics)));
            });
            services.TryAddSingleton<IContainerInsights>(sp => new LogAnalyticsContainerInsights(sp.GetRequiredService<LogAnalyticsClient>()));
        }

        services.TryAddSingleton<IDiagnoser>(sp => new KubernetesDiagnoser(
            sp.GetRequiredService<Cluster.IClusterReader>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetService<IMeshSignals>(), sp.GetService<IContainerInsights>(), sp.GetRequiredService<DiagnosisOptions>(),
            graph: sp.GetService<ServiceGraph.IServiceGraphSource>(),
            blame: sp.GetService<Func<ServiceGraph.BlameOptions>>()));
        services.TryAddSingleton<IHealthSignal, NoHealthSignal>();
        return services;
    }

    /// <summary>The managed identity of the storage settings (read, not validated: planning runs without storage).</summary>
    private static string? StorageClientId(IServiceProvider services) => services.GetRequiredService<RemediationOptions>().Storage.ClientId;
}
