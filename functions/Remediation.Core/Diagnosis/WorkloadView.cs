using k8s.Models;
using Remediation.Alerts;
using Remediation.Cluster;
using Remediation.ServiceGraph;

namespace Remediation.Diagnosis;

/// <summary>The ports a diagnosis reads: the cluster, and the optional mesh, Container insights and service-graph sources (with the blame tuning).</summary>
internal sealed record WorkloadSources(IClusterReader Cluster, IMeshSignals? Mesh, IContainerInsights? Insights, IServiceGraphSource? Graph = null, BlameOptions? Blame = null);

/// <summary>
/// The workload as one diagnosis sees it, read once and shared by every analyser: the Deployment, its ReplicaSets (by
/// revision, ownership as <see cref="DeploymentReads.ReplicaSetsOfAsync"/> decides), the pods of the newest revision and
/// their failure states. The optional sources (mesh signals, Container insights, Warning events, the HPA, the Istio
/// routing) are read at most once, on first use, within the diagnosis budget; a source that fails is null or empty and
/// recorded as unavailable.
/// </summary>
public sealed class WorkloadView
{
    /// <summary>Failing pods whose events are read.</summary>
    private const int PodsWithEvents = 3;

    /// <summary>Warning events read per failing pod.</summary>
    public const int EventsPerPod = 50;

    private readonly DiagnosisRun _run;
    private readonly WorkloadSources _sources;
    private readonly Task<MeshReading> _signals;
    private readonly Task<IReadOnlyList<PodInventoryRow>?> _inventory;
    private Task<IReadOnlyList<Corev1Event>>? _podEvents;
    private Task<IReadOnlyList<ContainerLogLine>?>? _errorLines;
    private Task<HpaState?>? _hpa;
    private Task<IReadOnlyList<Evidence>>? _routing;
    private Task<(GraphReading Reading, Blame Blame)?>? _blame;

    private WorkloadView(DiagnosisRun run, WorkloadSources sources, DiagnosisOptions options, WorkloadTarget target, V1Deployment deployment)
    {
        _run = run;
        _sources = sources;
        Options = options;
        Target = target;
        Deployment = deployment;
        var labels = deployment.Spec.Template.Metadata?.Labels ?? new Dictionary<string, string>();
        App = labels.TryGetValue("app", out var a) ? a : labels.TryGetValue("app.kubernetes.io/name", out var n) ? n : null;
        // Metrics run while the cluster is read.
        _signals = ReadSignalsAsync(new[] { App, target.Name }.OfType<string>().Distinct(StringComparer.Ordinal).ToList());
        _inventory = sources.Insights is not { } insights ? Task.FromResult<IReadOnlyList<PodInventoryRow>?>(null)
            : run.OptionalAsync("log analytics KubePodInventory", ct => insights.PodInventoryAsync(target.Namespace, target.Name, ct));
    }

    public WorkloadTarget Target { get; }

    public V1Deployment Deployment { get; }

    public DiagnosisOptions Options { get; }

    /// <summary>The pod template's app label (app, else app.kubernetes.io/name); null without one.</summary>
    public string? App { get; }

    /// <summary>The mesh service name of the workload: its app label, else its name.</summary>
    public string Service => App ?? Target.Name;

    /// <summary>The ReplicaSets the Deployment owns, newest revision first.</summary>
    public IReadOnlyList<V1ReplicaSet> ReplicaSets { get; private set; } = [];

    public V1ReplicaSet? Newest => ReplicaSets.Count > 0 ? ReplicaSets[0] : null;

    public V1ReplicaSet? Previous => ReplicaSets.Count > 1 ? ReplicaSets[1] : null;

    public long? NewestRevision => Newest is null ? null : DeploymentRevisions.Of(Newest);

    public long? PreviousRevision => Previous is null ? null : DeploymentRevisions.Of(Previous);

    /// <summary>How long ago the newest revision appeared (on the TimeProvider); null without ReplicaSets.</summary>
    public TimeSpan? NewestAge { get; private set; }

    /// <summary>The pods of the newest revision (all pods when there is no ReplicaSet).</summary>
    public IReadOnlyList<PodState> Pods { get; private set; } = [];

    public IReadOnlyList<PodState> Failing => [.. Pods.Where(p => p.Failure is not null)];

    public bool HasFailingPods => Pods.Any(p => p.Failure is not null);

    /// <summary>The failure most pods of the newest revision show (ties: OOM, image pull, unschedulable, then the rest); null when none fail.</summary>
    public FailureClass? DominantFailure => Failing.GroupBy(s => s.Failure!.Value).OrderByDescending(g => g.Count()).ThenBy(g => Priority(g.Key)).FirstOrDefault()?.Key;

    /// <summary>The newest revision replaced an earlier one less than <see cref="DiagnosisOptions.RecentChange"/> ago.</summary>
    public bool RecentChange => Previous is not null && NewestAge is { } age && age <= Options.RecentChange;

    public bool PreviousServing => (Previous?.Status?.ReadyReplicas ?? 0) > 0;

    /// <summary>The workload at its newest revision ("checkout@2"), or the workload itself without ReplicaSets.</summary>
    public string RevisionComponent => Newest is null ? Target.ToString() : $"{Target.Name}@{NewestRevision}";

    /// <summary>"2 of 3 pods": how many pods of the newest revision show the failure.</summary>
    public string Share(FailureClass failure) => $"{Failing.Count(f => f.Failure == failure)} of {Pods.Count} pods";

    /// <summary>The finding naming the newest revision as failing and the previous one as the one to go back to.</summary>
    public Finding WithRevisions(Finding finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        return finding with { FailingRevision = NewestRevision, HealthyRevision = PreviousRevision };
    }

    public Task<MeshReading> SignalsAsync() => _signals;

    public Task<IReadOnlyList<PodInventoryRow>?> InventoryAsync() => _inventory;

    /// <summary>Warning events of the failing pods, newest first.</summary>
    public Task<IReadOnlyList<Corev1Event>> PodEventsAsync() => _podEvents ??= ReadPodEventsAsync();

    /// <summary>The last error lines of the failing pods (Container insights); null when not configured or unreadable.</summary>
    public Task<IReadOnlyList<ContainerLogLine>?> ErrorLinesAsync() => _errorLines ??= _sources.Insights is not { } insights
        ? Task.FromResult<IReadOnlyList<ContainerLogLine>?>(null)
        : _run.OptionalAsync("log analytics ContainerLogV2", ct => insights.ErrorLinesAsync(Target.Namespace, FailingNames(), Options.MaxLogLines, ct));

    /// <summary>The HPA scaling the Deployment; null without one or when it could not be read.</summary>
    public Task<HpaState?> HpaAsync() => _hpa ??= ReadHpaAsync();

    /// <summary>The VirtualService(s) routing the workload's service and the DestinationRule subsets, as evidence.</summary>
    public Task<IReadOnlyList<Evidence>> RoutingAsync() => _routing ??= MeshRoutingEvidence.ReadAsync(_run, _sources.Cluster, Target.Namespace, Service);

    /// <summary>Whether a service-graph source is configured.</summary>
    public bool GraphConfigured => _sources.Graph is not null;

    /// <summary>The service graph as recorded with the diagnosis, once <see cref="BlameAsync"/> read one.</summary>
    public ServiceGraphFinding? GraphFinding { get; private set; }

    /// <summary>
    /// The service graph around the workload over the metrics window and the blame for <paramref name="symptom"/> decided
    /// on it (read once; the first symptom asked decides); null without a service-graph source.
    /// </summary>
    public Task<(GraphReading Reading, Blame Blame)?> BlameAsync(Symptom symptom) => _blame ??= ReadBlameAsync(symptom);

    /// <summary>Reads the Deployment and its family; null when the Deployment does not exist. Cluster faults propagate.</summary>
    internal static async Task<WorkloadView?> ReadAsync(DiagnosisRun run, WorkloadSources sources, DiagnosisOptions options, TimeProvider timeProvider,
        WorkloadTarget target, CancellationToken cancellationToken)
    {
        var deployment = await sources.Cluster.GetDeploymentAsync(target.Namespace, target.Name, cancellationToken).ConfigureAwait(false);
        if (deployment is null)
        {
            return null;
        }
        var view = new WorkloadView(run, sources, options, target, deployment);
        var replicaSetsTask = sources.Cluster.ReplicaSetsOfAsync(deployment, cancellationToken);
        var podsTask = sources.Cluster.PodsOfAsync(deployment, cancellationToken);
        // WhenAll observes both tasks: a second failure is not left unobserved.
        await Task.WhenAll(replicaSetsTask, podsTask).ConfigureAwait(false);
        view.ReplicaSets = await replicaSetsTask.ConfigureAwait(false);
        var pods = await podsTask.ConfigureAwait(false);
        var newestHash = view.Newest is null ? null : DeploymentRevisions.PodTemplateHash(view.Newest.Metadata);
        view.Pods = [.. pods.Where(p => view.Newest is null || DeploymentRevisions.PodTemplateHash(p.Metadata) == newestHash).Select(PodState.Of)];
        view.NewestAge = view.Newest is null ? null : timeProvider.GetUtcNow() - (view.Newest.Metadata.CreationTimestamp ?? DateTime.MinValue);
        return view;
    }

    private async Task<MeshReading> ReadSignalsAsync(IReadOnlyCollection<string> services)
    {
        if (_sources.Mesh is not { } mesh)
        {
            return new MeshReading(false, null, null, null);
        }
        var currentTask = _run.OptionalAsync("prometheus",
            ct => mesh.VersionSignalsAsync(Target.Namespace, services, Options.MetricsWindow, null, ct), useSourceTimeout: false);
        var baselineTask = Options.BaselineOffset <= TimeSpan.Zero ? Task.FromResult<IReadOnlyList<VersionSignals>?>(null)
            : _run.OptionalAsync("prometheus baseline",
                ct => mesh.VersionSignalsAsync(Target.Namespace, services, Options.MetricsWindow, Options.BaselineOffset, ct), useSourceTimeout: false);
        var current = await currentTask.ConfigureAwait(false);
        var baseline = await baselineTask.ConfigureAwait(false);
        // Prometheus is configured but could not be read: the conclusions that rest on metrics (healthy, no errors) cannot be drawn.
        return new MeshReading(true, current, baseline, current is null ? _run.Why("prometheus") ?? "prometheus: no answer" : null);
    }

    private async Task<(GraphReading Reading, Blame Blame)?> ReadBlameAsync(Symptom symptom)
    {
        if (_sources.Graph is not { } graph)
        {
            return null;
        }
        const string source = "prometheus service graph";
        var alerted = new WorkloadId(Target.Namespace, Target.Name);
        var reading = await _run.OptionalAsync(source, ct => graph.ReadAsync(alerted, Options.MetricsWindow, ct), useSourceTimeout: false).ConfigureAwait(false)
            ?? GraphReading.Failed(_run.Why(source) ?? $"{source}: no answer");
        var blame = BlameAnalyzer.Analyze(reading, alerted, symptom, _sources.Blame);
        GraphFinding = reading.Graph is { } read ? ServiceGraphFinding.From(read, blame, _sources.Blame?.Health) : null;
        return (reading, blame);
    }

    private async Task<IReadOnlyList<Corev1Event>> ReadPodEventsAsync()
    {
        // Each failing pod's own events (the first few pods): one list of the namespace's warnings read other workloads'
        // events wherever many fail at once, and cost every diagnosis a read of them all.
        var failing = Failing.Select(p => p.Name).Take(PodsWithEvents).ToList();
        if (failing.Count == 0)
        {
            return [];
        }
        var events = await _run.OptionalAsync("kubernetes events", async ct =>
        {
            var lists = await Task.WhenAll(failing.Select(pod => _sources.Cluster.ListPodWarningEventsAsync(Target.Namespace, pod, EventsPerPod, ct))).ConfigureAwait(false);
            return lists.SelectMany(list => list).ToList();
        }).ConfigureAwait(false);
        var names = failing.ToHashSet(StringComparer.Ordinal);
        return [.. (events ?? [])
            .Where(e => e.InvolvedObject?.Kind == "Pod" && e.InvolvedObject.Name is { } name && names.Contains(name))
            .OrderByDescending(e => e.LastTimestamp ?? e.EventTime ?? e.Metadata?.CreationTimestamp)];
    }

    private async Task<HpaState?> ReadHpaAsync()
    {
        var hpa = await _run.OptionalAsync("kubernetes horizontalpodautoscalers", ct => _sources.Cluster.HorizontalPodAutoscalerOfAsync(Deployment, ct)).ConfigureAwait(false);
        return hpa is null ? null : HpaState.Of(hpa);
    }

    private HashSet<string> FailingNames() => Failing.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);

    private static int Priority(FailureClass failure) => failure switch
    {
        FailureClass.OutOfMemory => 0,
        FailureClass.ImagePull => 1,
        FailureClass.Unschedulable => 2,
        _ => 3,
    };
}
