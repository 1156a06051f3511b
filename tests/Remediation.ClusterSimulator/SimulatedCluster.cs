using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Remediation.ClusterSimulator.Api;
using Remediation.ClusterSimulator.Json;
using Remediation.ClusterSimulator.Sim;

namespace Remediation.ClusterSimulator;

/// <summary>A simulated Kubernetes API server (plain HTTP on 127.0.0.1) with controllers, kubelet and Istio telemetry.</summary>
public sealed class SimulatedCluster : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ClusterCore _core;
    private readonly ApiServer _api;
    private readonly ScenarioLoader _loader;
    private readonly List<RecordedRequest> _requests = [];
    private readonly object _requestsLock = new();
    private readonly CancellationTokenSource _stopping = new();
    private ITimer? _timer;
    private int _ticking;
    private DateTimeOffset _lastTick = DateTimeOffset.MinValue;
    private int _disposed;

    private SimulatedCluster(WebApplication app, SimulatorOptions options)
    {
        _app = app;
        _core = new ClusterCore(options);
        Faults = new FaultInjector(options.Seed);
        _api = new ApiServer(_core, Faults, Record, () => BaseAddress.Authority, _stopping.Token);
        _loader = new ScenarioLoader(_core, _api);
    }

    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    public FaultInjector Faults { get; }

    /// <summary>The last exception thrown by the background controller loop, if any.</summary>
    public Exception? LastControllerError { get; private set; }

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_requestsLock)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<SimulatedCluster> StartAsync(SimulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SimulatorOptions();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, options.Port);
            k.AllowSynchronousIO = false;
        });
        var app = builder.Build();
        var cluster = new SimulatedCluster(app, options);
        app.Run(cluster._api.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var url = app.Urls.First();
        var port = new Uri(url).Port;
        cluster.BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        lock (cluster._core.Gate)
        {
            foreach (var ns in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
            {
                cluster._api.CreateObject(Resources.Namespaces, new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } }, null, false);
            }

            cluster._core.Metrics.Start(cluster._core.Now);
        }

        cluster._timer = options.TimeProvider.CreateTimer(_ => cluster.Tick(), null, options.ControllerInterval, options.ControllerInterval);
        return cluster;
    }

    private void Tick()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        // A tick that outlasts the interval (a large cluster on a busy machine) is not joined by the next ones: they
        // would only queue up on the lock, each holding a thread-pool thread, and starve the API server's requests.
        if (Interlocked.Exchange(ref _ticking, 1) != 0)
        {
            return;
        }
        try
        {
            lock (_core.Gate)
            {
                // A simulated clock moved forward by minutes fires every period it passed, all at the same instant: the
                // first pass sees everything there is to see (writes are reconciled as they happen), so the rest skip.
                var now = _core.Now;
                if (now == _lastTick)
                {
                    return;
                }
                _lastTick = now;
                var slice = System.Diagnostics.Stopwatch.GetTimestamp();
                var heldMs = 0.0;
                _core.Metrics.Advance();
                _core.Controllers.Reconcile(() =>
                {
                    if (_core.ApiWaiting == 0 || System.Diagnostics.Stopwatch.GetElapsedTime(slice) < HoldAtMost)
                    {
                        return;
                    }
                    heldMs += System.Diagnostics.Stopwatch.GetElapsedTime(slice).TotalMilliseconds;
                    _core.GateStats.RecordControllerYield();
                    LetWaitingRequestsIn();
                    slice = System.Diagnostics.Stopwatch.GetTimestamp();
                });
                _core.GateStats.RecordControllerPass(heldMs + System.Diagnostics.Stopwatch.GetElapsedTime(slice).TotalMilliseconds);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or ApiException or FormatException or KeyNotFoundException or NullReferenceException or ArgumentException)
        {
            LastControllerError = ex;
            Console.Error.WriteLine($"cluster-simulator: controller loop failed: {ex}");
        }
        finally
        {
            Volatile.Write(ref _ticking, 0);
        }
    }

    /// <summary>How long the controller loop holds the gate at a time while API requests wait for it.</summary>
    public static readonly TimeSpan HoldAtMost = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// Called by the controller loop holding the gate: releases it until the requests waiting for it have taken it (at
    /// most <see cref="HoldAtMost"/>, so a steady stream of requests cannot stop the loop), then takes it again.
    /// </summary>
    private void LetWaitingRequestsIn()
    {
        Monitor.Exit(_core.Gate);
        try
        {
            var released = System.Diagnostics.Stopwatch.GetTimestamp();
            var spin = new SpinWait();
            while (_core.ApiWaiting > 0 && System.Diagnostics.Stopwatch.GetElapsedTime(released) < HoldAtMost)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }
        finally
        {
            Monitor.Enter(_core.Gate);
        }
    }

    private void Record(RecordedRequest r)
    {
        lock (_requestsLock)
        {
            _requests.Add(r);
        }
    }

    public void ClearRequests()
    {
        lock (_requestsLock)
        {
            _requests.Clear();
        }
    }

    public string WriteKubeconfig(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        var server = BaseAddress.ToString().TrimEnd('/');
        var text = new StringBuilder()
            .Append("apiVersion: v1\n")
            .Append("kind: Config\n")
            .Append("clusters:\n")
            .Append("- name: simulator\n")
            .Append("  cluster:\n")
            .Append("    server: ").Append(server).Append('\n')
            .Append("users:\n")
            .Append("- name: simulator\n")
            .Append("  user:\n")
            .Append("    token: simulator-token\n")
            .Append("contexts:\n")
            .Append("- name: simulator\n")
            .Append("  context:\n")
            .Append("    cluster: simulator\n")
            .Append("    user: simulator\n")
            .Append("    namespace: default\n")
            .Append("current-context: simulator\n")
            .ToString();
        File.WriteAllText(path, text);
        return path;
    }

    public void LoadScenario(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        lock (_core.Gate)
        {
            _loader.Load(scenario);
        }
    }

    public void LoadScenarioFile(string path) => LoadScenario(Scenario.LoadFile(path));

    /// <summary>A copy of the lock's statistics so far.</summary>
    public GateStatistics GateStatistics()
    {
        lock (_core.Gate)
        {
            return _core.GateStats.Copy();
        }
    }

    public JsonObject? GetObject(string resource, string? @namespace, string name)
    {
        var rt = Resources.ByPlural(resource.Split('.')[0]) ?? throw new ArgumentException($"unknown resource \"{resource}\"", nameof(resource));
        lock (_core.Gate)
        {
            var o = _core.Store.Get(rt, @namespace, name);
            return o is null ? null : J.Clone(o);
        }
    }

    /// <summary>All objects of a resource (deep clones), optionally in one namespace.</summary>
    public IReadOnlyList<JsonObject> ListObjects(string resource, string? @namespace = null)
    {
        var rt = Resources.ByPlural(resource.Split('.')[0]) ?? throw new ArgumentException($"unknown resource \"{resource}\"", nameof(resource));
        lock (_core.Gate)
        {
            return _core.Store.List(rt, @namespace).Select(J.Clone).ToList();
        }
    }

    public string Snapshot()
    {
        lock (_core.Gate)
        {
            var arr = new JsonArray();
            foreach (var (_, obj) in _core.Store.All())
            {
                arr.Add(obj.DeepClone());
            }

            return J.Canonical(arr, indented: true);
        }
    }

    public Task ReconcileAsync(CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        lock (_core.Gate)
        {
            _core.Metrics.Advance();
            _core.Controllers.Reconcile();
        }

        return Task.CompletedTask;
    }

    public string MetricsText()
    {
        lock (_core.Gate)
        {
            return _core.Metrics.Render();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _core.Store.CloseAllWatchers();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
