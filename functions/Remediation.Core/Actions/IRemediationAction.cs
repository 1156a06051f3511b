using Remediation.Alerts;
using Remediation.Diagnosis;
using Remediation.Policy;

namespace Remediation.Actions;

/// <summary>What an action plans from: the target, the diagnosis, the rule's parameters and the safety limits.</summary>
public sealed record ActionContext(
    WorkloadTarget Target,
    DiagnosisResult Diagnosis,
    IReadOnlyDictionary<string, string> Parameters,
    SafetyLimits Limits);

/// <summary>An action the product can take. Planning reads the cluster and never mutates it.</summary>
public interface IRemediationAction
{
    string Name { get; }

    /// <summary>Computes the plan from the current state; throws <see cref="ActionNotApplicableException"/> when it must not run.</summary>
    Task<ActionPlan> PlanAsync(ActionContext context, CancellationToken cancellationToken = default);
}

/// <summary>The actions by name.</summary>
public sealed class ActionCatalog(IEnumerable<IRemediationAction> actions)
{
    private readonly Dictionary<string, IRemediationAction> _byName = actions.ToDictionary(a => a.Name, StringComparer.Ordinal);

    public IRemediationAction? Find(string name) => _byName.GetValueOrDefault(name);
}
