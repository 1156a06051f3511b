using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Remediation.Alerts;
using Remediation.Diagnosis;
using Remediation.Policy;

namespace Remediation.Benchmarks;

/// <summary>Alertmanager webhook body → normalized alerts (source-generated JSON, target resolution, identity).</summary>
[MemoryDiagnoser]
public class AlertmanagerParseBenchmarks
{
    private byte[] _one = [];
    private byte[] _fifty = [];

    [GlobalSetup]
    public void Setup()
    {
        _one = Encoding.UTF8.GetBytes(Payloads.Alertmanager([new Payloads.AlertSpec("shop", "checkout", Payloads.Fingerprint(1, 1), 1)]));
        _fifty = Encoding.UTF8.GetBytes(Payloads.Alertmanager(Enumerable.Range(0, 50)
            .Select(i => new Payloads.AlertSpec("shop", BenchCluster.StormName(i), Payloads.Fingerprint(1, i), i)).ToList()));
    }

    [Benchmark(Description = "parse+normalize, 1 alert")]
    public int ParseOne() => AlertmanagerNormalizer.Parse(_one).Count;

    [Benchmark(Description = "parse+normalize, 50 alerts")]
    public int ParseFifty() => AlertmanagerNormalizer.Parse(_fifty).Count;
}

/// <summary>The policy's allowlist check and rule matching (examples/policy.yaml, plus a glob/regex variant).</summary>
[MemoryDiagnoser]
public class PolicyBenchmarks
{
    private RemediationPolicy _example = RemediationPolicy.DenyAll;
    private RemediationPolicy _patterns = RemediationPolicy.DenyAll;
    private readonly Dictionary<string, string> _labels = new(StringComparer.Ordinal)
    {
        ["alertname"] = "KubePodCrashLooping", ["namespace"] = "shop", ["deployment"] = "checkout", ["severity"] = "critical", ["team"] = "payments",
    };

    [GlobalSetup]
    public void Setup()
    {
        _example = PolicyLoader.LoadFile(Path.Combine(Repo.Root, "examples", "policy.yaml"));
        _patterns = PolicyLoader.Parse("""
            allow:
              namespaces: [shop, web]
              workloads: ["shop/check*", "web/*"]
            rules:
              - name: critical-crash-loops
                when:
                  classes: [CrashLoop]
                  labels: { severity: "=~critical|page", team: payments }
                action: restart
            """);
    }

    [Benchmark(Description = "RefusalFor (namespace allowlist)")]
    public string? RefusalForExample() => _example.RefusalFor("shop", "checkout");

    [Benchmark(Description = "RefusalFor (workload globs)")]
    public string? RefusalForGlobs() => _patterns.RefusalFor("shop", "checkout");

    [Benchmark(Description = "Match (example policy, CrashLoop = 4th rule)")]
    public PolicyRule? MatchExample() => _example.Match(_labels, FailureClass.CrashLoop);

    [Benchmark(Description = "Match (regex label matcher)")]
    public PolicyRule? MatchRegex() => _patterns.Match(_labels, FailureClass.CrashLoop);
}

/// <summary>Incident identity: the claim key of every alert, and the fingerprint when the sender gives none.</summary>
[MemoryDiagnoser]
public class IdentityBenchmarks
{
    private readonly Dictionary<string, string> _labels = new(StringComparer.Ordinal)
    {
        ["alertname"] = "KubePodCrashLooping", ["namespace"] = "shop", ["pod"] = "checkout-5d8f7c9b4-x2x7q", ["container"] = "app", ["severity"] = "critical",
    };

    [Benchmark(Description = "IncidentIdentity.For")]
    public string For() => IncidentIdentity.For(AlertSource.Alertmanager, "3f9c2a7be1d04c55", Payloads.StartsAt);

    [Benchmark(Description = "IncidentIdentity.FingerprintOf (5 labels)")]
    public string FingerprintOf() => IncidentIdentity.FingerprintOf(_labels);
}

public sealed record MicroResult(string Benchmark, double MeanNs, double ErrorNs, long? AllocatedBytes);

public static class HotPaths
{
    /// <summary>
    /// BenchmarkDotNet in-process (no generated project to build), short job: 1 launch, 3 warm-up, 5 measured iterations.
    /// </summary>
    public static IReadOnlyList<MicroResult> Run()
    {
        var job = Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(5).WithLaunchCount(1).WithId("short");
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddLogger(ConsoleLogger.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default)
            .WithOptions(ConfigOptions.DisableLogFile | ConfigOptions.JoinSummary)
            .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "remediation-bench-artifacts"));
        var summaries = BenchmarkRunner.Run([typeof(AlertmanagerParseBenchmarks), typeof(PolicyBenchmarks), typeof(IdentityBenchmarks)], config);
        var results = new List<MicroResult>();
        foreach (var summary in summaries)
        {
            foreach (var report in summary.Reports)
            {
                results.Add(ToResult(report));
            }
        }
        return results;
    }

    private static MicroResult ToResult(BenchmarkReport report)
    {
        var stats = report.ResultStatistics;
        var allocated = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
        return new MicroResult(report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\''), stats?.Mean ?? double.NaN,
            stats?.ConfidenceInterval.Margin ?? double.NaN, allocated);
    }
}
