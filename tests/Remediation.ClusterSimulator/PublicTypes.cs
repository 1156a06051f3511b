namespace Remediation.ClusterSimulator;

/// <summary>One API request as the simulator saw it.</summary>
public sealed record RecordedRequest(
    string Method,
    string Path,
    string Query,
    string? ContentType,
    string? Body,
    int StatusCode,
    string Verb,
    string? Group,
    string Resource,
    string? Namespace,
    string? Name,
    bool DryRun)
{
    public bool IsMutating => Verb is "create" or "update" or "patch" or "delete" && !DryRun;

    /// <summary>
    /// The request target exactly as it arrived on the wire, without the query (percent-encoding kept, nothing
    /// normalized). <see cref="Path"/> is ASP.NET Core's decoded path; assert on this one to see what the client sent.
    /// </summary>
    public string RawPath { get; init; } = "";

    /// <summary>
    /// What the client received: the status written, or 0 when the connection was dropped. Differs from
    /// <see cref="StatusCode"/> (the real outcome of handling the request) only for a <see cref="FaultRule.AfterApply"/> fault.
    /// </summary>
    public int AnsweredStatusCode { get; init; }

    /// <summary>A mutating request the store actually committed (2xx outcome), whatever the client was told.</summary>
    public bool Committed => IsMutating && StatusCode is >= 200 and < 300;
}

/// <summary>Options for <see cref="SimulatedCluster.StartAsync"/>.</summary>
public sealed class SimulatorOptions
{
    /// <summary>Port on 127.0.0.1; 0 picks a free port.</summary>
    public int Port { get; init; }

    /// <summary>Simulated time (timestamps, pod readiness, crash back-off, metrics, controller loop timer).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>How long after creation a healthy pod becomes Ready.</summary>
    public TimeSpan PodReadyAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Period of the background controller loop (on the TimeProvider's timers).</summary>
    public TimeSpan ControllerInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Whether a successful write reconciles the whole cluster before it is answered (the default: tests see a rollout's
    /// first step at once). False leaves it to the controller loop, as a real API server does; a large cluster then
    /// answers writes without a full reconcile each.
    /// </summary>
    public bool ReconcileOnWrite { get; init; } = true;

    /// <summary>Seed for uids, pod name suffixes and fault probabilities.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>A fault to inject into matching API requests.</summary>
public sealed class FaultRule
{
    /// <summary>get, list, watch, create, update, patch, delete; null matches any verb.</summary>
    public string? Verb { get; init; }

    /// <summary>Plural resource, with subresource if any (e.g. "deployments", "deployments/scale"); null matches any.</summary>
    public string? Resource { get; init; }

    /// <summary>Namespace to match; null matches any.</summary>
    public string? Namespace { get; init; }

    /// <summary>Object name to match; null matches any.</summary>
    public string? Name { get; init; }

    /// <summary>Chance (0..1) that a matching request is faulted.</summary>
    public double Probability { get; init; } = 1.0;

    /// <summary>Status to answer (500, 503, 429, ...); null = no error (only latency / drop).</summary>
    public int? StatusCode { get; init; } = 503;

    /// <summary>Delay (wall-clock) before answering.</summary>
    public TimeSpan? Latency { get; init; }

    /// <summary>Abort the connection without an answer.</summary>
    public bool DropConnection { get; init; }

    /// <summary>
    /// Handle the request first (a mutation is committed to the store), then fault only the reply: wait
    /// <see cref="Latency"/>, then drop the connection (<see cref="DropConnection"/>) or answer <see cref="StatusCode"/>
    /// instead of the real result. Models an API call that took effect although its caller never learned so (a worker
    /// that died, a timeout, a lost connection). The request is recorded with its real outcome in
    /// <see cref="RecordedRequest.StatusCode"/> and what the client saw in <see cref="RecordedRequest.AnsweredStatusCode"/>.
    /// With neither a drop nor a status only the reply is delayed. Watches are not affected.
    /// </summary>
    public bool AfterApply { get; init; }

    /// <summary>Retry-After seconds sent with 429/503 answers.</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>Stop firing after this many faults; null = unlimited.</summary>
    public int? MaxCount { get; init; }

    internal int Fired;

    /// <summary>How many requests this rule has faulted so far (a held request counts from when it arrives).</summary>
    public int FiredCount => Volatile.Read(ref Fired);
}

/// <summary>Holds the fault rules; first matching rule wins.</summary>
public sealed class FaultInjector
{
    private readonly object _lock = new();
    private readonly List<FaultRule> _rules = [];
    private readonly Random _random;

    internal FaultInjector(int seed) => _random = new Random(seed);

    public void Add(FaultRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        lock (_lock)
        {
            _rules.Add(rule);
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _rules.Clear();
        }
    }

    public IReadOnlyList<FaultRule> Rules
    {
        get
        {
            lock (_lock)
            {
                return [.. _rules];
            }
        }
    }

    internal FaultRule? Match(string verb, string resource, string? ns, string? name)
    {
        lock (_lock)
        {
            foreach (var r in _rules)
            {
                if ((r.Verb is null || r.Verb == verb)
                    && (r.Resource is null || r.Resource == resource)
                    && (r.Namespace is null || r.Namespace == ns)
                    && (r.Name is null || r.Name == name)
                    && (r.MaxCount is null || r.Fired < r.MaxCount))
                {
                    if (r.Probability >= 1 || _random.NextDouble() < r.Probability)
                    {
                        r.Fired++;
                        return r;
                    }
                }
            }

            return null;
        }
    }
}

/// <summary>
/// Time spent on the simulator's one lock, since the cluster started: API requests wait for it while the controller loop
/// reconciles the cluster (a real API server answers reads from its cache meanwhile), so a benchmark can tell that wait
/// apart from the time of the code it measures.
/// </summary>
public sealed class GateStatistics
{
    private readonly List<double> _apiWaitsMs = [];

    /// <summary>Controller passes (timer ticks that reconciled), their total and their longest time holding the lock.</summary>
    public long ControllerPasses { get; private set; }
    public double ControllerHeldMs { get; private set; }
    public double ControllerLongestMs { get; private set; }

    /// <summary>Times the controller loop let waiting API requests in during a pass.</summary>
    public long ControllerYields { get; private set; }

    /// <summary>Each API request's wait for the lock, in milliseconds, in order.</summary>
    public IReadOnlyList<double> ApiWaitsMs => _apiWaitsMs;

    internal void RecordApiWait(double ms) => _apiWaitsMs.Add(ms);

    internal void RecordControllerYield() => ControllerYields++;

    internal void RecordControllerPass(double ms)
    {
        ControllerPasses++;
        ControllerHeldMs += ms;
        ControllerLongestMs = Math.Max(ControllerLongestMs, ms);
    }

    internal GateStatistics Copy()
    {
        var copy = new GateStatistics { ControllerPasses = ControllerPasses, ControllerHeldMs = ControllerHeldMs, ControllerLongestMs = ControllerLongestMs, ControllerYields = ControllerYields };
        copy._apiWaitsMs.AddRange(_apiWaitsMs);
        return copy;
    }
}
