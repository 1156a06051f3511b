namespace Remediation;

/// <summary>Configuration section "Remediation" (environment: Remediation__Storage__ConnectionString, ...).</summary>
public sealed class RemediationOptions
{
    public const string SectionName = "Remediation";

    public StorageOptions Storage { get; set; } = new();
    public KubernetesOptions Kubernetes { get; set; } = new();
    public PrometheusOptions Prometheus { get; set; } = new();
    /// <summary>Path of the policy (runbook) file; without one, nothing is ever acted on (default deny).</summary>
    public string? PolicyPath { get; set; }
    /// <summary>Worker identity written into intent rows (defaults to machine name and process id).</summary>
    public string? InstanceId { get; set; }
    /// <summary>How long an intent without an outcome is presumed in progress before another worker may take it over.</summary>
    public TimeSpan ActionLease { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>An incident still 'Received' after this long is re-queued by the sweep (its work item was lost).</summary>
    public TimeSpan RequeueAfter { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// While the work queue holds messages, the sweep scans the table for lost work items at most this often (an
    /// incident still Received is most likely in the queue); in between it reads only the incidents in flight.
    /// </summary>
    public TimeSpan FullSweepInterval { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>How often a remediation awaiting verification is checked after its soak (until its deadline).</summary>
    public TimeSpan VerifyPollInterval { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>
    /// Alert deliveries the standalone host ingests at once; more wait in line (<see cref="QueuedDeliveries"/>), and
    /// beyond that a delivery is answered 503 + Retry-After at once (the sender retries; nothing was claimed). Under
    /// overload this keeps the answer time and the memory bounded instead of piling requests up behind storage.
    /// </summary>
    public int MaxConcurrentDeliveries { get; set; } = 64;
    /// <summary>
    /// Deliveries that wait for one of the <see cref="MaxConcurrentDeliveries"/> places, oldest first. A waiting delivery
    /// holds only its connection (its body is not read until it is ingested), so the line is long enough to ride out a
    /// storage stall of about half a second at 1,000 deliveries/s without refusing anyone: with 64 waiting, a stall of
    /// ~130 ms at that rate answered dozens of deliveries 503 (the bench's burst), each then delayed by the sender's retry.
    /// </summary>
    public int QueuedDeliveries { get; set; } = 512;
}

public sealed class StorageOptions
{
    public const string SectionName = RemediationOptions.SectionName + ":Storage";

    /// <summary>Connection string (Azurite: UseDevelopmentStorage=true or an explicit endpoint string).</summary>
    public string? ConnectionString { get; set; }
    /// <summary>Identity-based access: https://{account}.table.core.windows.net.</summary>
    public string? TableServiceUri { get; set; }
    /// <summary>Identity-based access: https://{account}.queue.core.windows.net.</summary>
    public string? QueueServiceUri { get; set; }
    /// <summary>Client id of a user-assigned managed identity; empty uses DefaultAzureCredential.</summary>
    public string? ClientId { get; set; }
    public string IncidentsTable { get; set; } = "incidents";
    /// <summary>The table of the remediations in flight: the incidents table's name + <see cref="InFlightSuffix"/>.</summary>
    public string InFlightTable => IncidentsTable + InFlightSuffix;
    public const string InFlightSuffix = "inflight";
    public string WorkQueue { get; set; } = "remediation-work";
    public string PoisonQueue => WorkQueue + "-poison";
}

public sealed class KubernetesOptions
{
    public const string SectionName = RemediationOptions.SectionName + ":Kubernetes";

    /// <summary>kubeconfig file; empty uses in-cluster config when present, else ~/.kube/config.</summary>
    public string? KubeconfigPath { get; set; }
    public string? Context { get; set; }
    /// <summary>Explicit API server URL (e.g. an AKS API server with an Entra ID token, or a local simulator).</summary>
    public string? ServerUrl { get; set; }
    /// <summary>Entra ID scope for AKS when ServerUrl is set and a managed identity is used; empty = no token.</summary>
    public string? TokenScope { get; set; }
    /// <summary>
    /// With ServerUrl: the CA that signed the API server's certificate, base64 of its PEM (a kubeconfig's
    /// certificate-authority-data). AKS signs it with the cluster's own CA, which no system trust store holds; empty =
    /// the system's trust store.
    /// </summary>
    public string? CertificateAuthorityData { get; set; }
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

public sealed class PrometheusOptions
{
    public const string SectionName = RemediationOptions.SectionName + ":Prometheus";

    public Uri? Url { get; set; }
    /// <summary>none, basic, bearer, azure (Entra ID token for Azure Monitor managed Prometheus).</summary>
    public string Auth { get; set; } = "none";
    public string? Username { get; set; }
    public string? Password { get; set; }
    public string? BearerToken { get; set; }
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
