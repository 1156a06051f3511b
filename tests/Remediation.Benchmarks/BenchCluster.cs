using System.Globalization;
using System.Text;
using k8s;
using Remediation.ClusterSimulator;

namespace Remediation.Benchmarks;

/// <summary>
/// The cluster simulator in-process on loopback, loaded with a generated scenario: namespace "bench" with
/// crash-looping Deployments (single revision, crashed 30 minutes after start, so a restart yields healthy pods
/// and verification can succeed). "e2e-NNN" for the end-to-end run, "storm-NNN" for the alert storm.
/// </summary>
public sealed class BenchCluster : IAsyncDisposable
{
    public const string Namespace = "bench";
    public const string Image = "registry.example/bench-app:1.0.0";

    private BenchCluster(SimulatedCluster cluster)
    {
        Cluster = cluster;
        Client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = cluster.BaseAddress.ToString().TrimEnd('/') });
    }

    public SimulatedCluster Cluster { get; }
    public IKubernetes Client { get; }
    public Uri BaseAddress => Cluster.BaseAddress;

    public static string E2eName(int i) => string.Create(CultureInfo.InvariantCulture, $"e2e-{i:000}");

    public static string StormName(int i) => string.Create(CultureInfo.InvariantCulture, $"storm-{i:000}");

    /// <summary>Workloads of the capacity counts ("cap-NNN"), acted on once each there and nowhere else.</summary>
    public const int CapacityWorkloads = 50;

    public static string CapacityName(int i) => string.Create(CultureInfo.InvariantCulture, $"cap-{i:000}");

    /// <summary>
    /// The simulator's controllers reconcile the whole cluster under one lock, which API calls wait on (a real API server
    /// serves reads while its controllers work; this is the simulator's artefact, not the product's). At 360 crash-looping
    /// workloads a pass in the busy bench process took ~300 ms, so every 500 ms the lock was held 61 % of the time and
    /// the end-to-end run measured mostly waits for it. Every 2 s keeps the harness's share small; a restart still
    /// completes within a few ticks. Writes are answered without reconciling the whole cluster first (as a real API server
    /// answers them); the controller loop rolls them out.
    /// </summary>
    public static readonly TimeSpan ControllerInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A simulator holding the given numbers of workloads. Each workload is one Deployment with one crash-looping pod, so
    /// the growth storms (up to 1,000 workloads) start a cluster of their own, sized for them.
    /// </summary>
    public static async Task<BenchCluster> StartAsync(int e2eDeployments, int stormDeployments, int capacityDeployments = CapacityWorkloads)
    {
        var cluster = await SimulatedCluster.StartAsync(new SimulatorOptions { ControllerInterval = ControllerInterval, ReconcileOnWrite = false }).ConfigureAwait(false);
        var yaml = new StringBuilder()
            .Append("name: bench\n")
            .Append("namespaces: [").Append(Namespace).Append("]\n")
            .Append("behaviours:\n")
            .Append("  ").Append(Image).Append(": { mode: crashloop, crashAfter: 30m }\n")
            .Append("deployments:\n");
        foreach (var name in Enumerable.Range(0, e2eDeployments).Select(E2eName).Concat(Enumerable.Range(0, stormDeployments).Select(StormName))
            .Concat(Enumerable.Range(0, capacityDeployments).Select(CapacityName)))
        {
            yaml.Append("  - { name: ").Append(name).Append(", namespace: ").Append(Namespace)
                .Append(", replicas: 1, image: ").Append(Image).Append(", createdAgo: 2h }\n");
        }
        cluster.LoadScenario(Scenario.Parse(yaml.ToString()));
        await cluster.ReconcileAsync().ConfigureAwait(false);
        return new BenchCluster(cluster);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Cluster.DisposeAsync().ConfigureAwait(false);
    }
}
