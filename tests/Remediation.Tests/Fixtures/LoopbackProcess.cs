using System.Diagnostics;
using System.Text;

namespace Remediation.Tests.Fixtures;

/// <summary>
/// A real server binary run by a test on 127.0.0.1 with its own temp directory: captures its output for failure
/// messages, waits for its readiness URL, and kills it and removes the directory when disposed.
/// </summary>
public sealed class LoopbackProcess : IAsyncDisposable
{
    private readonly StringBuilder _log = new();
    private Process? _process;

    public LoopbackProcess(string name) =>
        Directory = System.IO.Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"{name}-{Guid.NewGuid():N}")).FullName;

    public string Directory { get; }

    /// <summary>Output of the process so far (bounded).</summary>
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

    /// <summary>The first existing file among the names, searched on PATH and in /usr/bin.</summary>
    public static string? FindBinary(params string[] names) =>
        names.SelectMany(name => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Append("/usr/bin").Select(dir => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists);

    /// <summary>Starts the binary and waits until <paramref name="readyUrl"/> answers 2xx.</summary>
    public async Task StartAsync(string binary, IEnumerable<string> arguments, Uri readyUrl, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {binary}");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(20);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Path.GetFileName(binary)} exited with {_process.ExitCode}: {Log}");
            }
            try
            {
                using var response = await http.GetAsync(readyUrl).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Slow start.
            }
            if (clock.Elapsed > limit)
            {
                throw new InvalidOperationException($"{Path.GetFileName(binary)} not ready after {limit.TotalSeconds:F0} s: {Log}");
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            if (_log.Length < 64_000)
            {
                _log.AppendLine(line);
            }
        }
    }

    /// <summary>Kills this fixture's own process (by its handle) and waits for it to exit; the directory stays until disposed.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
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
        _process = null;
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
