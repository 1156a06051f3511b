using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Queues;
using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Remediation.Actions;
using Remediation.Diagnosis;
using Remediation.Ingest;
using Remediation.Cluster;
using Remediation.Kubernetes;
using Remediation.Metrics;
using Remediation.Pipeline;
using Remediation.Policy;
using Remediation.Storage;
using Remediation.Verification;

namespace Remediation.Hosting;

public static class ServiceCollectionExtensions
{
    /// <summary>Registers the whole pipeline; the Functions app and the standalone host both call this.</summary>
    public static IServiceCollection AddRemediationCore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddRemediationOptions(configuration);
        services.AddRemediationHttpClients();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new RemediationMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));

        services.AddRemediationStorage();
        services.TryAddSingleton<TargetLedger>();
        services.TryAddSingleton<SafetyGate>();
        services.TryAddSingleton<Incidents.IncidentRecorder>();

        services.TryAddSingleton<IKubernetes>(sp => KubernetesClientFactory.Create(sp.GetRequiredService<IOptions<KubernetesOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IClusterReader, KubernetesClusterReader>();
        services.TryAddSingleton<IClusterWriters, KubernetesClusterWriters>();
        services.TryAddSingleton<OwnerResolver>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMeshRouter, IstioVirtualServiceRouter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMeshRouter, GatewayHttpRouteRouter>());
        // The service-graph blame takes its tolerances from the policy as it is at each diagnosis.
        services.TryAddSingleton<Func<ServiceGraph.BlameOptions>>(sp => () => sp.GetRequiredService<PolicyProvider>().Current.ServiceGraph);
        services.AddRemediationDiagnosis(configuration);

        services.TryAddSingleton(sp => new PolicyProvider(sp.GetRequiredService<RemediationOptions>()));
        services.TryAddEnumerable([
            ServiceDescriptor.Singleton<IRemediationAction, RolloutRestartAction>(), ServiceDescriptor.Singleton<IRemediationAction, RollbackAction>(),
            ServiceDescriptor.Singleton<IRemediationAction, DeletePodAction>(), ServiceDescriptor.Singleton<IRemediationAction, TrafficShiftAction>(),
            ServiceDescriptor.Singleton<IRemediationAction, ScaleOutAction>()]);
        services.TryAddSingleton(sp => new ActionCatalog(sp.GetServices<IRemediationAction>()));
        services.TryAddSingleton<RemediationPlanner>();
        services.TryAddSingleton<PlanExecutor>();
        services.TryAddSingleton<CascadeGrouping>();
        services.TryAddSingleton<PlainLeadMemory>();
        services.TryAddSingleton<RememberedRefusals>();
        services.TryAddSingleton<TargetTurns>();
        services.TryAddSingleton<IClaimDecisions>(sp => sp.GetRequiredService<RememberedRefusals>());
        services.TryAddSingleton<RemediationPipeline>();
        services.TryAddSingleton<WorkItemProcessor>();
        services.TryAddSingleton<RemediationVerifier>();
        services.TryAddSingleton<StaleWorkSweeper>();
        services.TryAddSingleton<VerificationScheduler>();
        services.TryAddSingleton<AlertIngestor>();
        services.TryAddSingleton<Notifications.OutcomeNotifier>();
        services.TryAddSingleton(sp => Approvals.ApprovalLinks.From(key => configuration[key], sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<ApprovalRequests>();
        services.TryAddSingleton<ApprovalService>();
        services.AddLogging();
        return services;
    }

    /// <summary>The storage adapters: the incidents table (incidents, group rows, the ledger), the in-flight table, the work queue.</summary>
    private static void AddRemediationStorage(this IServiceCollection services)
    {
        services.TryAddSingleton(sp =>
        {
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return CreateTableClient(storage, storage.IncidentsTable, sp.GetRequiredService<RemediationMetrics>());
        });
        services.TryAddSingleton(sp =>
        {
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            var metrics = sp.GetRequiredService<RemediationMetrics>();
            return new WorkQueue(CreateQueueClient(storage, storage.WorkQueue, metrics), CreateQueueClient(storage, storage.PoisonQueue, metrics));
        });
        services.TryAddSingleton<IncidentStore>();
        services.TryAddSingleton<IIncidentStore>(sp => sp.GetRequiredService<IncidentStore>());
        services.TryAddSingleton<IIncidentHistory>(sp => sp.GetRequiredService<IncidentStore>());
        services.TryAddSingleton(sp =>
        {
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return new InFlightTable(CreateTableClient(storage, storage.InFlightTable, sp.GetRequiredService<RemediationMetrics>()));
        });
        services.TryAddSingleton<IInFlightRemediations>(sp => sp.GetRequiredService<InFlightTable>());
        services.TryAddSingleton<IIncidentGroups>(sp => sp.GetRequiredService<IncidentStore>());
        services.TryAddSingleton<ITargetLedgerStore>(sp => new TableTargetLedgerStore(sp.GetRequiredService<TableClient>()));
    }

    private static TableClient CreateTableClient(StorageOptions storage, string tableName, RemediationMetrics metrics)
    {
        var clientOptions = new TableClientOptions();
        ConfigureRetry(clientOptions.Retry);
        // Per retry: every request sent is counted (storage throttles and bills per request).
        clientOptions.AddPolicy(new StorageRequestCounter(metrics, StorageRequestCounter.Table), HttpPipelinePosition.PerRetry);
        if (!string.IsNullOrEmpty(storage.ConnectionString))
        {
            return new TableServiceClient(storage.ConnectionString, clientOptions).GetTableClient(tableName);
        }
        var uri = ServiceUri(storage.TableServiceUri, "TableServiceUri");
        return new TableServiceClient(uri, AzureIdentity(storage.ClientId), clientOptions).GetTableClient(tableName);
    }

    private static QueueClient CreateQueueClient(StorageOptions storage, string name, RemediationMetrics metrics)
    {
        // Base64, as the Functions queue trigger expects (host.json extensions.queues.messageEncoding).
        var clientOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        ConfigureRetry(clientOptions.Retry);
        clientOptions.AddPolicy(new StorageRequestCounter(metrics, StorageRequestCounter.Queue), HttpPipelinePosition.PerRetry);
        if (!string.IsNullOrEmpty(storage.ConnectionString))
        {
            return new QueueServiceClient(storage.ConnectionString, clientOptions).GetQueueClient(name);
        }
        var uri = ServiceUri(storage.QueueServiceUri, "QueueServiceUri");
        return new QueueServiceClient(uri, AzureIdentity(storage.ClientId), clientOptions).GetQueueClient(name);
    }

    /// <summary>Few, fast retries: a webhook sender waiting on us is better served by a quick 503 and its own retry.</summary>
    private static void ConfigureRetry(RetryOptions retry)
    {
        retry.MaxRetries = 2;
        retry.Delay = TimeSpan.FromMilliseconds(100);
        retry.MaxDelay = TimeSpan.FromSeconds(1);
        retry.NetworkTimeout = TimeSpan.FromSeconds(5);
    }

    private static Uri ServiceUri(string? value, string key) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
            ? uri
            : throw new InvalidOperationException($"Remediation:Storage needs ConnectionString or an absolute {key} (got '{value}')");

    /// <summary>The user-assigned managed identity <paramref name="clientId"/>, or DefaultAzureCredential when none is configured.</summary>
    internal static TokenCredential AzureIdentity(string? clientId) =>
        string.IsNullOrEmpty(clientId) ? new DefaultAzureCredential() : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
}
