using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Remediation.Alerts;
using Remediation.ClusterSimulator;
using Remediation.Diagnosis;
using Remediation.Hosting;
using Remediation.Ingest;
using Remediation.Pipeline;
using Remediation.Storage;
using Remediation.Verification;

namespace Remediation.Tests.Fixtures;

/// <summary>
/// The core pipeline wired as in production (real Azurite, the cluster simulator through KubernetesClient),
/// with simulated time shared by the product and the simulator.
/// </summary>
public sealed class PipelineHarness : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 11, 26, 3, 0, 0, TimeSpan.Zero);

    /// <summary>Namespace shop allowed; crash loops restarted, at most once per workload per 10 minutes; 2 s soak.</summary>
    public const string RestartCrashLoopsPolicy = """
        allow:
          namespaces: [shop]
        limits:
          cooldown: 10m
          verifySoak: 2s
          verifyDeadline: 2m
        rules:
          - name: restart-crash-loops
            when:
              classes: [CrashLoop]
            action: restart
        """;

    private readonly string _policyPath;

    private PipelineHarness(FakeTimeProvider time, SimulatedCluster cluster, ServiceProvider services, string policyPath)
    {
        _policyPath = policyPath;
        Time = time;
        Cluster = cluster;
        Services = services;
    }

    public FakeTimeProvider Time { get; }
    public SimulatedCluster Cluster { get; }
    public ServiceProvider Services { get; }
    public IncidentStore Store => Services.GetRequiredService<IncidentStore>();
    public InFlightTable InFlight => Services.GetRequiredService<InFlightTable>();

    public static async Task<PipelineHarness> StartAsync(string storage, string scenario, string policy,
        IDiagnoser? diagnoser = null, IHealthSignal? healthSignal = null, FakeTimeProvider? time = null,
        IDictionary<string, string?>? settings = null)
    {
        time ??= new FakeTimeProvider(Start);
        var cluster = await SimulatedCluster.StartAsync(new SimulatorOptions { TimeProvider = time });
        cluster.LoadScenarioFile(RepoPaths.Scenario(scenario));
        await cluster.ReconcileAsync();
        var unique = "p" + Guid.NewGuid().ToString("N")[..12];
        var policyPath = Path.Combine(Path.GetTempPath(), $"policy-{unique}.yaml");
        await File.WriteAllTextAsync(policyPath, policy);
        var values = new Dictionary<string, string?>
        {
            ["Remediation:Storage:ConnectionString"] = storage,
            ["Remediation:Storage:IncidentsTable"] = unique,
            ["Remediation:Storage:WorkQueue"] = "work-" + unique,
            ["Remediation:Kubernetes:ServerUrl"] = cluster.BaseAddress.ToString(),
            ["Remediation:PolicyPath"] = policyPath,
            ["Remediation:InstanceId"] = "test-worker",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        if (diagnoser is not null)
        {
            services.AddSingleton(diagnoser);
        }
        if (healthSignal is not null)
        {
            services.AddSingleton(healthSignal);
        }
        services.AddRemediationCore(configuration);
        return new PipelineHarness(time, cluster, services.BuildServiceProvider(), policyPath);
    }

    /// <summary>An Alertmanager-style firing alert for a workload, starting at <paramref name="startsAt"/>.</summary>
    public static NormalizedAlert Alert(string ns, string workload, string name = "KubePodCrashLooping", DateTimeOffset? startsAt = null, string? fingerprint = null)
    {
        var labels = new Dictionary<string, string> { ["alertname"] = name, ["namespace"] = ns, ["deployment"] = workload, ["severity"] = "critical" };
        return new NormalizedAlert
        {
            Source = AlertSource.Alertmanager,
            Name = name,
            Status = AlertStatus.Firing,
            Fingerprint = fingerprint ?? IncidentIdentity.FingerprintOf(labels),
            StartsAt = startsAt ?? Start,
            Labels = labels,
            Target = new WorkloadTarget(ns, workload),
        };
    }

    /// <summary>Ingests the alert and runs its work item through the queue-trigger code; returns the incident.</summary>
    public async Task<IncidentRecord> FireAsync(NormalizedAlert alert)
    {
        await Services.GetRequiredService<AlertIngestor>().IngestAsync([alert]);
        await DrainAsync();
        return (await Store.GetAsync(alert.IncidentId))!;
    }

    public Task DrainAsync() => Remediation.Host.StandaloneHost.DrainOnceAsync(Services, CancellationToken.None);

    /// <summary>Advances simulated time in steps, letting the simulator's controllers converge.</summary>
    public async Task AdvanceAsync(TimeSpan total, TimeSpan? step = null)
    {
        var s = step ?? TimeSpan.FromSeconds(1);
        for (var elapsed = TimeSpan.Zero; elapsed < total; elapsed += s)
        {
            Time.Advance(s);
            await Cluster.ReconcileAsync();
        }
    }

    public Task<SweepResult> SweepAsync() => Services.GetRequiredService<StaleWorkSweeper>().SweepAsync();

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Cluster.DisposeAsync();
        File.Delete(_policyPath);
    }
}

/// <summary>A diagnosis stage that returns a given result: isolates the decide/act stages in policy tests.</summary>
public sealed class FixedDiagnoser(Func<WorkloadTarget, DiagnosisResult> result) : IDiagnoser
{
    public Task<DiagnosisResult> DiagnoseAsync(NormalizedAlert alert, WorkloadTarget target, CancellationToken cancellationToken = default) =>
        Task.FromResult(result(target));

    public static FixedDiagnoser Of(FailureClass cls, Func<DiagnosisResult, DiagnosisResult>? adjust = null) => new(target =>
    {
        var result = new DiagnosisResult { Class = cls, Target = target, Component = target.ToString(), Confidence = 0.9, Summary = $"{cls} (fixed for the test)" };
        return adjust is null ? result : adjust(result);
    });
}

/// <summary>An error-ratio source with a settable value (the verification stage's input); <see cref="Unreadable"/> makes it fail to read.</summary>
public sealed class SettableHealthSignal(double? ratio) : IHealthSignal
{
    public double? Ratio { get; set; } = ratio;

    /// <summary>Why the source cannot be read (e.g. "prometheus: connection refused"); null when it can.</summary>
    public string? Unreadable { get; set; }

    public int Reads { get; private set; }

    public Task<HealthReading> ErrorRatioAsync(string @namespace, string workload, TimeSpan window, CancellationToken cancellationToken = default) => Read();

    public Task<HealthReading> ServiceErrorRatioAsync(string @namespace, string service, TimeSpan window, CancellationToken cancellationToken = default) => Read();

    private Task<HealthReading> Read()
    {
        Reads++;
        return Task.FromResult(Unreadable is { } why ? HealthReading.CouldNotRead(why) : Ratio is { } r ? HealthReading.Measured(r) : HealthReading.NoTraffic);
    }
}
