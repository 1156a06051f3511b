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
    public static IServiceCollection AddRemediationDiagnosis(this IServiceCollection services, IConfiguration configuration, RemediationOptions options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        var diagnosis = configuration.GetSection(DiagnosisOptions.SectionName).Get<DiagnosisOptions>() ?? new DiagnosisOptions();
        services.TryAddSingleton(diagnosis);

        var prometheus = options.Prometheus;
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
                string.Equals(prometheus.Auth, "azure", StringComparison.OrdinalIgnoreCase) ? ServiceCollectionExtensions.AzureIdentity(options.Storage.ClientId) : null));
            services.TryAddSingleton<IMeshSignals>(sp => new IstioSignals(sp.GetRequiredService<PrometheusClient>()));
            services.TryAddSingleton<IHealthSignal, PrometheusHealthSignal>();
        }

        var logAnalytics = configuration.GetSection(LogAnalyticsOptions.SectionName).Get<LogAnalyticsOptions>() ?? new LogAnalyticsOptions();
        if (!string.IsNullOrWhiteSpace(logAnalytics.WorkspaceId))
        {
            services.TryAddSingleton(logAnalytics);
            services.TryAddSingleton(sp => new LogAnalyticsClient(logAnalytics,
                ServiceCollectionExtensions.AzureIdentity(string.IsNullOrEmpty(logAnalytics.ClientId) ? options.Storage.ClientId : logAnalytics.ClientId),
                sp.GetRequiredService<TimeProvider>()));
            services.TryAddSingleton<IContainerInsights>(sp => new LogAnalyticsContainerInsights(sp.GetRequiredService<LogAnalyticsClient>()));
        }

        services.TryAddSingleton<IDiagnoser>(sp => new KubernetesDiagnoser(
            sp.GetRequiredService<Cluster.IClusterReader>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetService<IMeshSignals>(), sp.GetService<IContainerInsights>(), sp.GetRequiredService<DiagnosisOptions>()));
        services.TryAddSingleton<IHealthSignal, NoHealthSignal>();
        return services;
    }

    /// <summary>The process-wide HttpClient for Prometheus (a named holder so it does not collide with other HttpClient registrations).</summary>
    public sealed class PrometheusHttp(HttpClient client)
    {
        public HttpClient Client { get; } = client;
    }
}
