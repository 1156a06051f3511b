using System.Diagnostics;
using System.Net.Sockets;

namespace Remediation.Tests.Fixtures;

/// <summary>
/// A real Azurite (npm azurite@3.37.0 from the repository's package-lock.json) on free loopback ports with a temp
/// --location. Can be stopped and started again on the same ports and data (to simulate a storage outage).
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private Process? _process;
    private readonly string _location = Path.Combine(Path.GetTempPath(), "azurite-" + Guid.NewGuid().ToString("N"));

    public int BlobPort { get; } = FreePort.Next();
    public int QueuePort { get; } = FreePort.Next();
    public int TablePort { get; } = FreePort.Next();

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    /// <summary>
    /// Starts Azurite on new free ports. A port found free can be taken by another process (a test process's outgoing
    /// connection) before Azurite binds it; Azurite then exits at once, and it is started again on other ports (3 tries).
    /// </summary>
    public static async Task<AzuriteProcess> StartNewAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            var azurite = new AzuriteProcess();
            try
            {
                await azurite.StartAsync().ConfigureAwait(false);
                return azurite;
            }
            catch (InvalidOperationException) when (attempt < 3 && azurite._process is { HasExited: true })
            {
                await azurite.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public async Task StartAsync()
    {
        var bin = Path.Combine(RepoPaths.Root, "node_modules", ".bin", "azurite");
        if (!File.Exists(bin))
        {
            throw new InvalidOperationException($"Azurite not installed at {bin}: run 'npm ci' in the repository root (scripts/test does)");
        }
        Directory.CreateDirectory(_location);
        var start = new ProcessStartInfo(bin)
        {
            ArgumentList =
            {
                "--silent", "--skipApiVersionCheck", "--disableProductStyleUrl", "--disableTelemetry",
                "--location", _location,
                "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start azurite");
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line && errors.Count < 20)
            {
                errors.Enqueue(line);
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (!await CanConnectAsync(TablePort).ConfigureAwait(false) || !await CanConnectAsync(QueuePort).ConfigureAwait(false))
        {
            if (_process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException($"azurite did not start (exited: {_process.HasExited}; ports {BlobPort}/{QueuePort}/{TablePort}): {string.Join(" | ", errors)}");
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
        _process?.Dispose();
        _process = null;
    }

    private static async Task<bool> CanConnectAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", port).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        if (Directory.Exists(_location))
        {
            Directory.Delete(_location, recursive: true);
        }
    }
}
