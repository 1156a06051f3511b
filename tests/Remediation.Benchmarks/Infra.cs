using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Remediation.Benchmarks;

/// <summary>Locates the repository root (where Remediation.sln is).</summary>
public static class Repo
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Remediation.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Remediation.sln not found above " + AppContext.BaseDirectory);
    }
}

public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<bool> CanConnectAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>A real Azurite (node_modules/.bin/azurite) on free loopback ports with in-memory persistence.</summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private readonly string _location = Path.Combine(Path.GetTempPath(), "azurite-bench-" + Guid.NewGuid().ToString("N"));
    private Process? _process;

    public int BlobPort { get; } = FreePort.Next();
    public int QueuePort { get; } = FreePort.Next();
    public int TablePort { get; } = FreePort.Next();
    public int? ProcessId => _process?.Id;

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    public static async Task<AzuriteProcess> StartAsync()
    {
        var azurite = new AzuriteProcess();
        var bin = Path.Combine(Repo.Root, "node_modules", ".bin", "azurite");
        if (!File.Exists(bin))
        {
            throw new InvalidOperationException($"Azurite not installed at {bin}: run 'npm ci' in the repository root");
        }
        Directory.CreateDirectory(azurite._location);
        var inv = CultureInfo.InvariantCulture;
        // REMEDIATION_BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p") runs Azurite under node with those
        // flags, for profiling the storage emulator during a phase.
        var nodeArgs = Environment.GetEnvironmentVariable("REMEDIATION_BENCH_NODE_ARGS");
        var start = new ProcessStartInfo(nodeArgs is null ? bin : "node")
        {
            ArgumentList =
            {
                "--silent", "--skipApiVersionCheck", "--disableProductStyleUrl", "--disableTelemetry", "--inMemoryPersistence",
                "--blobHost", "127.0.0.1", "--blobPort", azurite.BlobPort.ToString(inv),
                "--queueHost", "127.0.0.1", "--queuePort", azurite.QueuePort.ToString(inv),
                "--tableHost", "127.0.0.1", "--tablePort", azurite.TablePort.ToString(inv),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (nodeArgs is not null)
        {
            var script = Path.Combine(Repo.Root, "node_modules", "azurite", "dist", "src", "azurite.js");
            foreach (var arg in nodeArgs.Split(' ', StringSplitOptions.RemoveEmptyEntries).Append(script).Reverse())
            {
                start.ArgumentList.Insert(0, arg);
            }
        }
        azurite._process = Process.Start(start) ?? throw new InvalidOperationException("could not start azurite");
        azurite._process.OutputDataReceived += (_, _) => { };
        azurite._process.ErrorDataReceived += (_, _) => { };
        azurite._process.BeginOutputReadLine();
        azurite._process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (!await FreePort.CanConnectAsync(azurite.TablePort).ConfigureAwait(false) || !await FreePort.CanConnectAsync(azurite.QueuePort).ConfigureAwait(false))
        {
            if (azurite._process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException($"azurite did not start (exited: {azurite._process.HasExited})");
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
        return azurite;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } process)
        {
            // Under a profiler (REMEDIATION_BENCH_NODE_ARGS) node writes its profile only when it exits on its own: ask
            // it to stop (SIGINT, as Ctrl+C) and give it time to write, then end it.
            if (Environment.GetEnvironmentVariable("REMEDIATION_BENCH_NODE_ARGS") is not null)
            {
                using var interrupt = Process.Start("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)]);
                await Task.WhenAny(process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(30))).ConfigureAwait(false);
            }
        }
        if (_process is { HasExited: false } running)
        {
            running.Kill(entireProcessTree: true);
            await running.WaitForExitAsync().ConfigureAwait(false);
        }
        _process?.Dispose();
        if (Directory.Exists(_location))
        {
            Directory.Delete(_location, recursive: true);
        }
    }
}

/// <summary>Latency samples (milliseconds) and their percentiles (nearest rank).</summary>
public sealed class Samples
{
    private readonly List<double> _values = [];
    private readonly Lock _lock = new();

    public void Add(double ms)
    {
        lock (_lock)
        {
            _values.Add(ms);
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _values.Count;
            }
        }
    }

    public double Percentile(double p)
    {
        lock (_lock)
        {
            if (_values.Count == 0)
            {
                return double.NaN;
            }
            var sorted = _values.Order().ToArray();
            var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
            return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
        }
    }

    public double Mean
    {
        get
        {
            lock (_lock)
            {
                return _values.Count == 0 ? double.NaN : _values.Average();
            }
        }
    }
}

public static class Clock
{
    public static long Now => TimeProvider.System.GetTimestamp();

    public static double Ms(long from, long to) => (to - from) * 1000.0 / TimeProvider.System.TimestampFrequency;

    public static long After(long from, TimeSpan offset) => from + (long)(offset.TotalSeconds * TimeProvider.System.TimestampFrequency);

    /// <summary>
    /// Waits until the timestamp in 1 ms sleeps (no spinning: the machine is shared with the system under test).
    /// Any lag of this scheduler is counted against the product, since latency is taken from the due time.
    /// </summary>
    public static async Task UntilAsync(long due)
    {
        while (true)
        {
            var left = Ms(Now, due);
            if (left <= 0)
            {
                return;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, left - 1))).ConfigureAwait(false);
        }
    }
}

/// <summary>Peak and current resident set size of a process, from /proc/&lt;pid&gt;/status (Linux).</summary>
public static class ProcStatus
{
    public static double? PeakRssMb(int pid) => ReadKb(pid, "VmHWM:") / 1024.0;

    public static double? RssMb(int pid) => ReadKb(pid, "VmRSS:") / 1024.0;

    private static double? ReadKb(int pid, string key)
    {
        var path = $"/proc/{pid}/status";
        if (!File.Exists(path))
        {
            return null;
        }
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                var parts = line[key.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return double.Parse(parts[0], CultureInfo.InvariantCulture);
            }
        }
        return null;
    }
}
