using Remediation.Alerts;

namespace Remediation.Policy;

/// <summary>
/// The labels a policy rule's <c>when.labels</c> is matched against: the alert's, with the labels that name the object
/// set to the object the product acts on. A rule scoped with <c>namespace: shop</c> or <c>deployment: checkout</c> means
/// that workload; matched on the alert's labels as sent, it saw the scrape target's <c>namespace</c> where the object's
/// came as <c>exported_namespace</c>, or a <c>deployment</c> label the resolver passed over, and chose another rule's
/// action, mode or dry run for the workload acted on.
/// </summary>
public static class RuleLabels
{
    /// <summary>
    /// <paramref name="alertLabels"/> where every <c>X</c> with a present <c>exported_X</c> takes its value (the object's,
    /// as <see cref="TargetResolver"/> reads it), <c>namespace</c> is the target's namespace and the label of the target's
    /// kind (<c>deployment</c> for a Deployment) and a present <c>workload</c> are its name.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Of(IReadOnlyDictionary<string, string> alertLabels, WorkloadTarget target)
    {
        ArgumentNullException.ThrowIfNull(alertLabels);
        ArgumentNullException.ThrowIfNull(target);
        var labels = new Dictionary<string, string>(alertLabels, StringComparer.Ordinal);
        foreach (var (key, value) in alertLabels)
        {
            if (key.StartsWith(ExportedPrefix, StringComparison.Ordinal) && key.Length > ExportedPrefix.Length && value.Length > 0)
            {
                labels[key[ExportedPrefix.Length..]] = value;
            }
        }
        labels["namespace"] = target.Namespace;
        foreach (var (label, kind) in TargetResolver.WorkloadLabels)
        {
            if (kind == target.Kind)
            {
                labels[label] = target.Name;
            }
        }
        if (labels.ContainsKey("workload"))
        {
            labels["workload"] = target.Name;
        }
        return labels;
    }

    private const string ExportedPrefix = "exported_";
}
