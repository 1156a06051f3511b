using System.Globalization;
using Remediation.ClusterSimulator;

namespace Remediation.Tests.Fixtures;

/// <summary>
/// Real monitoring in front of the standalone host: Prometheus scrapes the simulator and evaluates the rules, and
/// Alertmanager delivers to the host's webhook. Prometheus needs Alertmanager's address and Alertmanager the host's,
/// so they start in that order on a port chosen first.
/// </summary>
public sealed class MonitoringStack : IAsyncDisposable
{
    private MonitoringStack(PrometheusProcess prometheus, HostHarness host, AlertmanagerProcess alertmanager)
    {
        Prometheus = prometheus;
        Host = host;
        Alertmanager = alertmanager;
    }

    public PrometheusProcess Prometheus { get; }
    public HostHarness Host { get; }
    public AlertmanagerProcess Alertmanager { get; }

    /// <summary>Starts the three; <paramref name="settings"/> gets the host's extra settings, given the started Prometheus.</summary>
    public static async Task<MonitoringStack> StartAsync(SimulatedCluster cluster, string storageConnectionString, string policy, string rules,
        Func<PrometheusProcess, IDictionary<string, string?>> settings)
    {
        var simulator = $"127.0.0.1:{cluster.BaseAddress.Port.ToString(CultureInfo.InvariantCulture)}";
        var alertmanagerPort = FreePort.Next();
        var prometheus = await PrometheusProcess.StartAsync([simulator], TimeSpan.FromSeconds(1), rules: rules,
            alertmanager: $"127.0.0.1:{alertmanagerPort.ToString(CultureInfo.InvariantCulture)}").ConfigureAwait(false);
        HostHarness? host = null;
        try
        {
            host = await HostHarness.StartAsync(storageConnectionString, cluster.BaseAddress, policy, settings(prometheus)).ConfigureAwait(false);
            var alertmanager = await AlertmanagerProcess.StartAsync(new Uri(host.BaseAddress, "api/alerts/alertmanager"), HostHarness.Token, alertmanagerPort).ConfigureAwait(false);
            return new MonitoringStack(prometheus, host, alertmanager);
        }
        catch
        {
            if (host is not null)
            {
                await host.DisposeAsync().ConfigureAwait(false);
            }
            await prometheus.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Alertmanager.DisposeAsync().ConfigureAwait(false);
        await Host.DisposeAsync().ConfigureAwait(false);
        await Prometheus.DisposeAsync().ConfigureAwait(false);
    }
}
