using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Remediation.Tests.Fixtures;

/// <summary>
/// A real Prometheus (Debian package 'prometheus', see scripts/install-deps.sh) on a free loopback port with a temp TSDB,
/// scraping the given targets' /metrics every <c>scrapeInterval</c>.
/// </summary>
public sealed class PrometheusProcess : IAsyncDisposable
{
    private readonly LoopbackProcess _process = new("prometheus");

    private PrometheusProcess(int port) => Port = port;

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/");

    /// <summary>The process' output so far (for failure messages).</summary>
    public string Log => _process.Log;

    public static string? FindBinary() => LoopbackProcess.FindBinary("prometheus");

    /// <summary>Starts Prometheus scraping <paramref name="targets"/> (host:port) and waits until it is ready.</summary>
    public static async Task<PrometheusProcess> StartAsync(IEnumerable<string> targets, TimeSpan? scrapeInterval = null, string job = "simulator",
        string? rules = null, string? alertmanager = null)
    {
        var bin = FindBinary() ?? throw new InvalidOperationException("prometheus is not installed: run scripts/install-deps.sh (apt-get install prometheus)");
        var prometheus = new PrometheusProcess(FreePort.Next());
        try
        {
            await prometheus.RunAsync(bin, targets, scrapeInterval ?? TimeSpan.FromSeconds(1), job, rules, alertmanager).ConfigureAwait(false);
            return prometheus;
        }
        catch
        {
            await prometheus.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task RunAsync(string bin, IEnumerable<string> targets, TimeSpan interval, string job, string? rules, string? alertmanager)
    {
                var seconds = Math.Max(1, (int)interval.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
        var config = new StringBuilder()
            .Append("global:\n  scrape_interval: ").Append(seconds).Append("\n  evaluation_interval: ").Append(seconds).Append('\n')
            .Append("scrape_configs:\n  - job_name: ").Append(job).Append("\n    metrics_path: /metrics\n    scrape_timeout: ").Append(seconds).Append('\n')
            .Append("    static_configs:\n      - targets: [").Append(string.Join(", ", targets.Select(t => "'" + t + "'"))).Append("]\n");
        if (rules is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(_process.Directory, "rules.yml"), rules).ConfigureAwait(false);
            config.Append("rule_files:\n  - rules.yml\n");
        }
        if (alertmanager is not null)
        {
            config.Append("alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['").Append(alertmanager).Append("']\n");
        }
        var configPath = Path.Combine(_process.Directory, "prometheus.yml");
        await File.WriteAllTextAsync(configPath, config.ToString()).ConfigureAwait(false);
        await _process.StartAsync(bin,
            [
                "--config.file=" + configPath,
                "--storage.tsdb.path=" + Path.Combine(_process.Directory, "data"),
                "--web.listen-address=127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture),
                "--log.level=warn",
            ],
            new Uri(BaseAddress, "-/ready")).ConfigureAwait(false);
    }

    /// <summary>Waits until an instant query returns at least <paramref name="minSeries"/> series (e.g. until rate() has two samples).</summary>
    public async Task WaitForSeriesAsync(string promql, int minSeries = 1, TimeSpan? timeout = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        var last = "";
        while (deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(30)))
        {
            using var response = await http.GetAsync(new Uri(BaseAddress, "api/v1/query?query=" + Uri.EscapeDataString(promql))).ConfigureAwait(false);
            last = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            using var doc = JsonDocument.Parse(last);
            if (doc.RootElement.GetProperty("status").GetString() == "success"
                && doc.RootElement.GetProperty("data").GetProperty("result") is { ValueKind: JsonValueKind.Array } result
                && result.GetArrayLength() >= minSeries)
            {
                return;
            }
            await Task.Delay(250).ConfigureAwait(false);
        }
        throw new TimeoutException($"'{promql}' did not return {minSeries} series in time; last answer: {last}; log: {Log}");
    }

    /// <summary>
    /// Waits until a series <paramref name="selector"/> selects holds at least <paramref name="scrapes"/> samples within
    /// <paramref name="window"/>: rate() over that window then reads the scenario's steady rates, where over its first two or
    /// three samples one request more or less is a large share of the increase and extrapolation scales series unevenly.
    /// </summary>
    public Task WaitForScrapesAsync(string selector, TimeSpan window, int scrapes, TimeSpan? timeout = null) =>
        WaitForSeriesAsync(string.Create(CultureInfo.InvariantCulture, $"count_over_time({selector}[{(int)window.TotalSeconds}s]) >= {scrapes}"),
            timeout: timeout ?? TimeSpan.FromSeconds(90));

    /// <summary>Stops this Prometheus (its own process handle, never by name): its port then refuses connections.</summary>
    public Task StopAsync() => _process.StopAsync();

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
