using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Remediation.ClusterSimulator.Tests;

/// <summary>Result of one kubectl run.</summary>
public sealed record KubectlResult(int ExitCode, string StdOut, string StdErr)
{
    public KubectlResult EnsureSuccess()
    {
        Assert.True(ExitCode == 0, $"kubectl failed with exit code {ExitCode}\nstdout:\n{StdOut}\nstderr:\n{StdErr}");
        return this;
    }
}

/// <summary>A started simulator plus a kubeconfig and a private kubectl cache dir.</summary>
public sealed class Harness : IAsyncDisposable
{
    public static readonly DateTimeOffset Epoch = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    private readonly string _dir;

    private Harness(SimulatedCluster cluster, string dir, FakeTimeProvider? time)
    {
        Cluster = cluster;
        _dir = dir;
        Time = time;
        Kubeconfig = cluster.WriteKubeconfig(Path.Combine(dir, "kubeconfig.yaml"));
    }

    public SimulatedCluster Cluster { get; }

    public FakeTimeProvider? Time { get; }

    public string Kubeconfig { get; }

    public string Dir => _dir;

    public static string ScenarioPath(string name) => Path.Combine(AppContext.BaseDirectory, "scenarios", name);

    /// <summary>Starts a simulator; fake time (controllers only run on Advance/ReconcileAsync) or real time with fast pods.</summary>
    public static async Task<Harness> StartAsync(string? scenario = null, bool fakeTime = false, int seed = 1)
    {
        var time = fakeTime ? new FakeTimeProvider(Epoch) : null;
        var options = new SimulatorOptions
        {
            TimeProvider = time ?? TimeProvider.System,
            PodReadyAfter = fakeTime ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(150),
            ControllerInterval = TimeSpan.FromMilliseconds(fakeTime ? 1000 : 50),
            Seed = seed,
        };
        var cluster = await SimulatedCluster.StartAsync(options);
        var dir = Path.Combine(Path.GetTempPath(), "cluster-sim-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var h = new Harness(cluster, dir, time);
        if (scenario is not null)
        {
            cluster.LoadScenarioFile(ScenarioPath(scenario));
        }

        return h;
    }

    /// <summary>The repository root (the directory holding infra/kubernetes), found above the test output.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "infra", "kubernetes", "render-rbac.sh")))
            {
                return dir.FullName;
            }
        }

        Assert.Fail($"no infra/kubernetes/render-rbac.sh above {AppContext.BaseDirectory}");
        return "";
    }

    public static string KubectlPath()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, "kubectl");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Fail("kubectl was not found on PATH. These tests run the real kubectl (1.32) against the simulator; install it (the test script does) and re-run.");
        return "";
    }

    public async Task<KubectlResult> KubectlAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(KubectlPath())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--kubeconfig");
        psi.ArgumentList.Add(Kubeconfig);
        psi.ArgumentList.Add("--cache-dir");
        psi.ArgumentList.Add(Path.Combine(_dir, "cache"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["KUBECONFIG"] = Kubeconfig;
        psi.Environment["HOME"] = _dir;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start kubectl");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return new KubectlResult(p.ExitCode, await stdout, await stderr);
    }

    /// <summary>Polls (real time) until the condition holds; with fake time, advances it between polls.</summary>
    public async Task EventuallyAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for: {what}");
            }

            if (Time is not null)
            {
                Time.Advance(TimeSpan.FromSeconds(1));
                await Cluster.ReconcileAsync();
            }
            else
            {
                await Task.Delay(50);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"could not delete {_dir}: {ex.Message}");
        }
    }
}

public static class JsonExt
{
    public static string? Str(this JsonNode? node, params string[] path)
    {
        var cur = node;
        foreach (var p in path)
        {
            cur = cur is JsonObject o && o.TryGetPropertyValue(p, out var n) ? n : null;
        }

        return cur is JsonValue v && v.TryGetValue<string>(out var s) ? s : cur?.ToJsonString();
    }

    public static JsonNode? At(this JsonNode? node, params string[] path)
    {
        var cur = node;
        foreach (var p in path)
        {
            cur = cur is JsonObject o && o.TryGetPropertyValue(p, out var n) ? n : null;
        }

        return cur;
    }

    /// <summary>Template without the pod-template-hash label, canonical JSON.</summary>
    public static string TemplateWithoutHash(JsonNode? template)
    {
        var t = template!.DeepClone().AsObject();
        if (t.At("metadata", "labels") is JsonObject labels)
        {
            labels.Remove("pod-template-hash");
        }

        if (t["metadata"] is JsonObject m)
        {
            m.Remove("creationTimestamp");
        }

        return Canonical(t);
    }

    public static string Canonical(JsonNode? node) => Sort(node)?.ToJsonString() ?? "null";

    private static JsonNode? Sort(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sort(p.Value)))),
        JsonArray a => new JsonArray(a.Select(Sort).ToArray()),
        null => null,
        _ => node.DeepClone(),
    };
}
