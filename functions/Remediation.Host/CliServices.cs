using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Hosting;
using Remediation.Policy;
using Remediation.Storage;

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
    /// The core's services for planning. Without storage, the target ledger and the in-flight count read an empty
    /// history (no cooldown, no action history, nothing in flight), and a write says storage is not configured.
    /// </summary>
    public static ServiceProvider PlanningServices(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        if (!HasStorage(configuration))
        {
            services.AddSingleton<ITargetLedgerStore>(new EmptyTargetLedgerStore());
            services.AddSingleton<IInFlightRemediations>(NoIncidentStorage.Instance);
            services.AddSingleton<IIncidentHistory>(NoIncidentStorage.Instance);
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
