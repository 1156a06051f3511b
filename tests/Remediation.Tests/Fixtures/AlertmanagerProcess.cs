using System.Globalization;

namespace Remediation.Tests.Fixtures;

/// <summary>
/// The real Alertmanager (Debian prometheus-alertmanager) as a plain binary on 127.0.0.1, clustering off,
/// with a webhook receiver pointing at the product.
/// </summary>
public sealed class AlertmanagerProcess : IAsyncDisposable
{
    private readonly LoopbackProcess _process = new("alertmanager");

    private AlertmanagerProcess(int port) => Port = port;

    public int Port { get; }
    public string Address => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";
    public string Log => _process.Log;

    /// <summary>Starts Alertmanager routing every alert to <paramref name="webhookUrl"/> with a bearer token.</summary>
    public static async Task<AlertmanagerProcess> StartAsync(Uri webhookUrl, string bearerToken, int? port = null)
    {
        var bin = LoopbackProcess.FindBinary("prometheus-alertmanager", "alertmanager")
            ?? throw new InvalidOperationException("alertmanager is not installed: run scripts/install-deps.sh (apt-get install prometheus-alertmanager)");
        var alertmanager = new AlertmanagerProcess(port ?? FreePort.Next());
        try
        {
            var config = $"""
                route:
                  receiver: remediation
                  group_by: ['alertname', 'namespace', 'destination_workload']
                  group_wait: 1s
                  group_interval: 1s
                  repeat_interval: 1h
                receivers:
                  - name: remediation
                    webhook_configs:
                      - url: '{webhookUrl}'
                        send_resolved: true
                        max_alerts: 50
                        http_config:
                          authorization:
                            type: Bearer
                            credentials: '{bearerToken}'
                """;
            var configPath = Path.Combine(alertmanager._process.Directory, "alertmanager.yml");
            await File.WriteAllTextAsync(configPath, config).ConfigureAwait(false);
            await alertmanager._process.StartAsync(bin,
                [
                    "--config.file=" + configPath,
                    "--storage.path=" + Path.Combine(alertmanager._process.Directory, "data"),
                    "--web.listen-address=" + alertmanager.Address,
                    "--cluster.listen-address=",
                    "--log.level=warn",
                ],
                new Uri($"http://{alertmanager.Address}/-/ready")).ConfigureAwait(false);
            return alertmanager;
        }
        catch
        {
            await alertmanager.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
