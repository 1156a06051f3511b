using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Remediation.Host;

namespace Remediation.Benchmarks;

/// <summary>Starts the standalone host: in-process (StandaloneHost.Build with overrides) or as its own process.</summary>
public static class Hosts
{
    public const string Token = "bench-token-4c1d";

    /// <summary>Restart crash loops; no cooldown and high limits, so every incident acts.</summary>
    public const string ActingPolicy = """
        allow:
          namespaces: [bench]
        limits:
          cooldown: 0s
          window: 1h
          maxActionsPerWindow: 1000
          maxConcurrent: 1000
          breakerFailures: 1000
          verifyDeadline: 2m
          verifySoak: 0s
        rules:
          - name: restart-crash-loops
            when:
              classes: [CrashLoop]
            action: restart
        """;

    /// <summary>Restart crash loops, at most once per workload per hour (the storm's cap).</summary>
    public const string StormPolicy = """
        allow:
          namespaces: [bench]
        limits:
          cooldown: 1h
          window: 1h
          maxActionsPerWindow: 3
          maxConcurrent: 1000
          verifyDeadline: 2m
          verifySoak: 0s
        rules:
          - name: restart-crash-loops
            when:
              classes: [CrashLoop]
            action: restart
        """;

    public static Dictionary<string, string?> Settings(string storage, Uri kubernetes, string table, string policyPath, bool worker) => new()
    {
        ["Remediation:Storage:ConnectionString"] = storage,
        ["Remediation:Storage:IncidentsTable"] = table,
        ["Remediation:Storage:WorkQueue"] = "work-" + table,
        ["Remediation:Kubernetes:ServerUrl"] = kubernetes.ToString(),
        ["Remediation:PolicyPath"] = policyPath,
        ["Remediation:Auth:BearerTokens:0"] = Token,
        ["Remediation:Host:Worker"] = worker ? "true" : "false",
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
    };

    public static async Task<string> WritePolicyAsync(string name, string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"bench-policy-{name}-{Environment.ProcessId}.yaml");
        await File.WriteAllTextAsync(path, text).ConfigureAwait(false);
        return path;
    }

    public static async Task<(WebApplication App, Uri BaseAddress)> StartInProcessAsync(Dictionary<string, string?> settings)
    {
        var port = FreePort.Next();
        var app = StandaloneHost.Build(["--urls", $"http://127.0.0.1:{port}"], settings);
        await app.StartAsync().ConfigureAwait(false);
        return (app, new Uri($"http://127.0.0.1:{port}/"));
    }

    /// <summary>
    /// `dotnet remediation.dll serve` as a child process, configured through environment variables (as in production);
    /// returns once /healthz answers 200, with the time from process start to that answer.
    /// </summary>
    public static async Task<(Process Process, Uri BaseAddress, TimeSpan Ready)> StartProcessAsync(string hostDll, Dictionary<string, string?> settings, TimeSpan timeout)
    {
        var port = FreePort.Next();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { hostDll, "serve", "--urls", string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var started = Clock.Now;
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the host");
        process.OutputDataReceived += (_, e) =>
        {
            // The host logs at Warning and above; failures are shown (an unexplained exit would hide the cause).
            if (e.Data is { } line && (line.Contains(" fail:", StringComparison.Ordinal) || line.Contains(" crit:", StringComparison.Ordinal) || line.StartsWith("Unhandled", StringComparison.Ordinal)))
            {
                Console.Error.WriteLine("  host: " + line);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                Console.Error.WriteLine("  host: " + line);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the host exited with {process.ExitCode} before it was ready");
            }
            if (Clock.Ms(started, Clock.Now) > timeout.TotalMilliseconds)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("the host did not answer /healthz in time");
            }
            try
            {
                using var response = await probe.GetAsync(new Uri(baseAddress, "healthz")).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return (process, baseAddress, TimeSpan.FromMilliseconds(Clock.Ms(started, Clock.Now)));
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(5).ConfigureAwait(false);
        }
    }

    public static async Task StopProcessAsync(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
        process.Dispose();
    }

    public static HttpClient Client(Uri baseAddress)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseProxy = false,
        };
        var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return client;
    }
}
