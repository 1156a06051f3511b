using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Remediation.ClusterSimulator;
using Remediation.Metrics;
using Remediation.ServiceGraph;

namespace Remediation.Benchmarks;

public sealed record ServiceGraphFigures(int Reads, int QueriesPerRead, Samples ReadMs, Samples DirectMs, string Culprit, int Edges)
{
    public double Ratio => ReadMs.Percentile(50) / DirectMs.Percentile(50);
}

/// <summary>Service-graph diagnosis against a real Prometheus: the product's reading vs the same queries issued directly.</summary>
public static partial class Phases
{
    private static readonly TimeSpan GraphWindow = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The simulator's "cascade" scenario (frontend → checkout → payments, payments failing) scraped every second by a real
    /// Prometheus (its own process, temp TSDB). Then, alternating: the product's graph reading for frontend
    /// (PrometheusServiceGraphSource.ReadAsync: two neighbour hops in sequence, then six edge queries at once), and the same
    /// PromQL requests, captured from the product's own calls, issued directly with a plain HttpClient in the same shape.
    /// </summary>
    public static async Task<ServiceGraphFigures> ServiceGraphAsync(BenchSettings s)
    {
        await using var cluster = await SimulatedCluster.StartAsync(new SimulatorOptions()).ConfigureAwait(false);
        cluster.LoadScenario(Scenario.LoadFile(Path.Combine(Repo.Root, "tests", "scenarios", "cascade.yaml")));
        await cluster.ReconcileAsync().ConfigureAwait(false);
        await cluster.ReconcileAsync().ConfigureAwait(false);
        await using var prometheus = await BenchPrometheus.StartAsync(cluster.BaseAddress.Authority).ConfigureAwait(false);
        var recorder = new RecordingHandler(new SocketsHttpHandler { UseProxy = false });
        using var productHttp = new HttpClient(recorder);
        var source = new PrometheusServiceGraphSource(new PrometheusClient(productHttp, prometheus.BaseAddress, PrometheusAuthenticator.None, TimeSpan.FromSeconds(5), TimeProvider.System));
        var center = new WorkloadId("shop", "frontend");
        Console.WriteLine("  waiting until Prometheus has two samples of the failing edge");
        GraphReading reading = GraphReading.Failed("not read");
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            reading = await source.ReadAsync(center, GraphWindow).ConfigureAwait(false);
            if (reading.Graph is { } g && g.Edges.Any(e => e.Destination.Name == "payments" && e.Stats.ServerErrorRatio > 0))
            {
                break;
            }
            await Task.Delay(500).ConfigureAwait(false);
        }
        var blame = BlameAnalyzer.Analyze(reading, center, Symptom.Errors);
        recorder.Captured.Clear();
        await source.ReadAsync(center, GraphWindow).ConfigureAwait(false);
        var queries = recorder.Captured.ToList();
        using var direct = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        var readMs = new Samples();
        var directMs = new Samples();
        for (var i = -3; i < s.GraphReads; i++)
        {
            var started = Clock.Now;
            await source.ReadAsync(center, GraphWindow).ConfigureAwait(false);
            var read = Clock.Ms(started, Clock.Now);
            started = Clock.Now;
            await DirectAsync(direct, queries).ConfigureAwait(false);
            if (i >= 0)
            {
                readMs.Add(read);
                directMs.Add(Clock.Ms(started, Clock.Now));
            }
        }
        var figures = new ServiceGraphFigures(s.GraphReads, queries.Count, readMs, directMs, blame.Culprit?.ToString() ?? "(none)", reading.Graph?.Edges.Count ?? 0);
        Console.WriteLine($"    {queries.Count} queries per reading; culprit {figures.Culprit}, {figures.Edges} edges; reading p50 {readMs.Percentile(50):F1} ms, p99 {readMs.Percentile(99):F1} ms; direct p50 {directMs.Percentile(50):F1} ms, p99 {directMs.Percentile(99):F1} ms");
        return figures;
    }

    /// <summary>The captured requests in the reading's shape: all but the last six one after another, then the six at once.</summary>
    private static async Task DirectAsync(HttpClient http, IReadOnlyList<Uri> queries)
    {
        var sequential = Math.Max(0, queries.Count - 6);
        foreach (var uri in queries.Take(sequential))
        {
            await GetJsonAsync(http, uri).ConfigureAwait(false);
        }
        await Task.WhenAll(queries.Skip(sequential).Select(uri => GetJsonAsync(http, uri))).ConfigureAwait(false);
    }

    private static async Task GetJsonAsync(HttpClient http, Uri uri)
    {
        using var response = await http.GetAsync(uri).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false));
    }

    /// <summary>Records the URI of every request the product's Prometheus client sends, in order.</summary>
    private sealed class RecordingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public List<Uri> Captured { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Captured)
            {
                Captured.Add(request.RequestUri!);
            }
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>A real Prometheus (the system package) on a free loopback port, scraping one target every second.</summary>
    private sealed class BenchPrometheus : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly string _directory;

        private BenchPrometheus(Process process, string directory, int port)
        {
            _process = process;
            _directory = directory;
            BaseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
        }

        public Uri BaseAddress { get; }

        public static async Task<BenchPrometheus> StartAsync(string target)
        {
            var bin = new[] { "/usr/bin/prometheus", "/usr/local/bin/prometheus" }.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException("prometheus is not installed (scripts/install-deps.sh)");
            var directory = Directory.CreateTempSubdirectory("bench-prometheus-").FullName;
            var config = new StringBuilder()
                .Append("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: simulator\n    scrape_timeout: 1s\n")
                .Append("    static_configs:\n      - targets: ['").Append(target).Append("']\n");
            await File.WriteAllTextAsync(Path.Combine(directory, "prometheus.yml"), config.ToString()).ConfigureAwait(false);
            var port = FreePort.Next();
            var start = new ProcessStartInfo(bin)
            {
                ArgumentList =
                {
                    "--config.file=" + Path.Combine(directory, "prometheus.yml"), "--storage.tsdb.path=" + Path.Combine(directory, "data"),
                    "--web.listen-address=127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture), "--log.level=warn",
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            var process = Process.Start(start) ?? throw new InvalidOperationException("could not start prometheus");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var prometheus = new BenchPrometheus(process, directory, port);
            using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                if (process.HasExited)
                {
                    break;
                }
                try
                {
                    using var ready = await probe.GetAsync(new Uri(prometheus.BaseAddress, "-/ready")).ConfigureAwait(false);
                    if (ready.IsSuccessStatusCode)
                    {
                        return prometheus;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                await Task.Delay(100).ConfigureAwait(false);
            }
            await prometheus.DisposeAsync().ConfigureAwait(false);
            throw new TimeoutException("prometheus did not become ready in 30 s");
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }
            _process.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }
}
