using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Remediation.Tests.Fixtures;

/// <summary>
/// The real Alertmanager (Debian prometheus-alertmanager) as a plain binary on 127.0.0.1, clustering off,
/// with a webhook receiver pointing at the product.
/// </summary>
public sealed class AlertmanagerProcess : IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "alertmanager-" + Guid.NewGuid().ToString("N"));
    private readonly StringBuilder _log = new();
    private Process? _process;

    private AlertmanagerProcess(int port) => Port = port;

    public int Port { get; }
    public string Address => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static string? FindBinary() =>
        new[] { "prometheus-alertmanager", "alertmanager" }
            .SelectMany(name => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Append("/usr/bin").Select(dir => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists);

    /// <summary>Starts Alertmanager routing every alert to <paramref name="webhookUrl"/> with a bearer token.</summary>
    public static async Task<AlertmanagerProcess> StartAsync(Uri webhookUrl, string bearerToken, int? port = null)
    {
        var bin = FindBinary() ?? throw new InvalidOperationException("alertmanager is not installed: run scripts/install-deps.sh (apt-get install prometheus-alertmanager)");
        var alertmanager = new AlertmanagerProcess(port ?? FreePort.Next());
        Directory.CreateDirectory(Path.Combine(alertmanager._directory, "data"));
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
        var configPath = Path.Combine(alertmanager._directory, "alertmanager.yml");
        await File.WriteAllTextAsync(configPath, config).ConfigureAwait(false);
        var start = new ProcessStartInfo(bin)
        {
            ArgumentList =
            {
                "--config.file=" + configPath,
                "--storage.path=" + Path.Combine(alertmanager._directory, "data"),
                "--web.listen-address=" + alertmanager.Address,
                "--cluster.listen-address=",
                "--log.level=warn",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        alertmanager._process = Process.Start(start) ?? throw new InvalidOperationException("could not start alertmanager");
        alertmanager._process.OutputDataReceived += (_, e) => alertmanager.Append(e.Data);
        alertmanager._process.ErrorDataReceived += (_, e) => alertmanager.Append(e.Data);
        alertmanager._process.BeginOutputReadLine();
        alertmanager._process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (alertmanager._process.HasExited)
            {
                throw new InvalidOperationException($"alertmanager exited with {alertmanager._process.ExitCode}: {alertmanager.Log}");
            }
            try
            {
                using var ready = await http.GetAsync(new Uri($"http://{alertmanager.Address}/-/ready")).ConfigureAwait(false);
                if (ready.IsSuccessStatusCode)
                {
                    return alertmanager;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
        await alertmanager.DisposeAsync().ConfigureAwait(false);
        throw new InvalidOperationException("alertmanager not ready after 20 s");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
        _process?.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
