using System.Text.RegularExpressions;
using Remediation.Diagnosis;

namespace Remediation.Policy;

/// <summary>Action names a rule may ask for.</summary>
public static class ActionNames
{
    public const string Restart = "restart";
    public const string Rollback = "rollback";
    public const string DeletePod = "delete-pod";
    public const string TrafficShift = "traffic-shift";
    public const string ScaleOut = "scale-out";
    public const string Escalate = "escalate";
    public const string None = "none";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
        { Restart, Rollback, DeletePod, TrafficShift, ScaleOut, Escalate, None };

    public static bool Mutates(string action) => action is not (Escalate or None);
}

/// <summary>What becomes of an alert whose labels name no Kubernetes workload at all (policy key <c>unmappedAlerts</c>).</summary>
public enum UnmappedAlerts
{
    /// <summary>Recorded as Ignored: not acted on, nobody notified (the default).</summary>
    Ignore,
    /// <summary>Recorded as Escalated and notified, like any alert a human must look at.</summary>
    Escalate,
}

/// <summary>The runbook: which targets may be touched, safety limits, and the rules that map alerts and diagnoses to actions.</summary>
public sealed record RemediationPolicy
{
    /// <summary>Namespaces that are never touched, whatever the allowlist says.</summary>
    public static readonly IReadOnlySet<string> AlwaysDenied = new HashSet<string>(StringComparer.Ordinal) { "kube-system", "kube-public", "kube-node-lease" };

    public bool DryRun { get; init; }
    /// <summary>The trust ladder: dry-run, approve or auto per rule, per namespace and globally, with who may approve.</summary>
    public ApprovalPolicy Approval { get; init; } = new();
    /// <summary>The product's own namespace: never touched.</summary>
    public string OwnNamespace { get; init; } = "remediation";
    public IReadOnlyList<string> AllowedNamespaces { get; init; } = [];
    /// <summary>Optional "namespace/name" globs; empty allows every workload of an allowed namespace.</summary>
    public IReadOnlyList<string> AllowedWorkloads { get; init; } = [];
    public SafetyLimits Limits { get; init; } = new();
    public IReadOnlyList<PolicyRule> Rules { get; init; } = [];
    /// <summary>
    /// Alerts whose labels name no Kubernetes workload (VM, service health, budget, node alerts): ignored by default.
    /// An alert that names a Kubernetes object invalidly is always escalated, whatever this says.
    /// </summary>
    public UnmappedAlerts UnmappedAlerts { get; init; } = UnmappedAlerts.Ignore;

    /// <summary>Service-graph blame tuning (policy key <c>serviceGraph</c>): Kiali's health tolerances unless overridden.</summary>
    public Remediation.ServiceGraph.BlameOptions ServiceGraph { get; init; } = Remediation.ServiceGraph.BlameOptions.Default;

    /// <summary>Whether the alert is to be recorded as Ignored: it names no Kubernetes workload and the policy ignores those.</summary>
    public bool Ignores(Alerts.NormalizedAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return alert.Target is null && alert.TargetProblemKind == Alerts.TargetProblemKind.NoWorkload && UnmappedAlerts == UnmappedAlerts.Ignore;
    }

    /// <summary>Why an alert without a target ends as it does (Ignored or Escalated).</summary>
    public string UnmappedReason(Alerts.NormalizedAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return Ignores(alert)
            ? $"the alert names no Kubernetes workload, ignored (policy unmappedAlerts: ignore): {alert.TargetProblem}"
            : $"cannot map the alert to a Kubernetes workload: {alert.TargetProblem}";
    }

    /// <summary>A policy that allows nothing: what runs when no policy file is configured.</summary>
    public static RemediationPolicy DenyAll { get; } = new();

    /// <summary>Null when the namespace may be touched, else why not. Checked before anything in it is read.</summary>
    public string? NamespaceRefusal(string ns)
    {
        if (AlwaysDenied.Contains(ns) || ns == OwnNamespace)
        {
            return $"namespace '{ns}' is protected and never remediated";
        }
        if (!AllowedNamespaces.Contains(ns))
        {
            return $"namespace '{ns}' is not in the policy allowlist (default deny)";
        }
        return null;
    }

    /// <summary>Null when the workload may be touched, else why not. Only validated Kubernetes names reach a match.</summary>
    public string? RefusalFor(string ns, string name)
    {
        if (!Alerts.KubernetesNames.IsLabel(ns) || !Alerts.KubernetesNames.IsSubdomain(name))
        {
            return $"workload {Alerts.KubernetesNames.Quote(ns + "/" + name)} is not a valid Kubernetes name and matches no policy";
        }
        if (NamespaceRefusal(ns) is { } refusal)
        {
            return refusal;
        }
        if (AllowedWorkloads.Count > 0 && !AllowedWorkloads.Any(pattern => Glob.IsMatch($"{ns}/{name}", pattern)))
        {
            return $"workload '{ns}/{name}' matches no allowlisted workload pattern (default deny)";
        }
        return null;
    }

    /// <summary>The first rule that matches the alert's labels and the diagnosis class.</summary>
    public PolicyRule? Match(IReadOnlyDictionary<string, string> labels, FailureClass diagnosis) =>
        Rules.FirstOrDefault(rule => rule.Matches(labels, diagnosis));
}

public sealed record SafetyLimits
{
    /// <summary>Minimum time between two actions on the same target.</summary>
    public TimeSpan Cooldown { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan Window { get; init; } = TimeSpan.FromHours(1);
    public int MaxActionsPerWindow { get; init; } = 3;
    /// <summary>Remediations in flight (acting or verifying) across all targets.</summary>
    public int MaxConcurrent { get; init; } = 10;
    /// <summary>After this many failed remediations in a row, stop acting on the target and escalate.</summary>
    public int BreakerFailures { get; init; } = 2;
    /// <summary>Scale-out never goes past this many replicas (or HPA maxReplicas).</summary>
    public int MaxReplicas { get; init; } = 20;
    /// <summary>Scale-out adds at most this many replicas per action.</summary>
    public int ScaleStep { get; init; } = 2;
    public TimeSpan VerifyDeadline { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Verification passes only after the checks have held this long since the action.</summary>
    public TimeSpan VerifySoak { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>Verification passes only when the error ratio is at or below this (when metrics are available).</summary>
    public double HealthyErrorRatio { get; init; } = 0.05;
}

/// <summary>One runbook rule: match (alert labels, diagnosis classes) → action with parameters.</summary>
public sealed record PolicyRule
{
    public required string Name { get; init; }
    public required string Action { get; init; }
    public IReadOnlyList<FailureClass> Classes { get; init; } = [];
    /// <summary>Label matchers: exact value, or a regex when written "=~regex".</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
    /// <summary>Dry-run this rule even when the policy is live.</summary>
    public bool DryRun { get; init; }
    public int Line { get; init; }

    public bool Matches(IReadOnlyDictionary<string, string> labels, FailureClass diagnosis)
    {
        if (Classes.Count > 0 && !Classes.Contains(diagnosis))
        {
            return false;
        }
        foreach (var (key, expected) in Labels)
        {
            labels.TryGetValue(key, out var actual);
            if (expected.StartsWith("=~", StringComparison.Ordinal))
            {
                if (!Regex.IsMatch(actual ?? "", $"^(?:{expected[2..]})$", RegexOptions.None, TimeSpan.FromMilliseconds(50)))
                {
                    return false;
                }
            }
            else if (!string.Equals(actual, expected, StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }
}

internal static class Glob
{
    public static bool IsMatch(string value, string pattern) =>
        Regex.IsMatch(value, "^" + Regex.Escape(pattern).Replace("\\*", "[^/]*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.None, TimeSpan.FromMilliseconds(50));
}
