using System.Globalization;
using Remediation.Actions;

namespace Remediation.Policy;

/// <summary>
/// The parameters each action takes and the values it accepts, in one place: the policy loader reports every problem
/// here with its line (so <c>policy validate</c> and the host's start refuse what <c>plan</c> would refuse), and the
/// actions read their parameters through it, so the two cannot disagree.
/// </summary>
public static class ActionParameters
{
    private sealed record Parameter(string Name, string Expected, Func<string, bool> IsValid);

    private static readonly Dictionary<string, Parameter[]> ByAction = new(StringComparer.Ordinal)
    {
        [ActionNames.TrafficShift] = [new("weight", "an integer from 0 to 99 (the weight the degraded version keeps)", v => TryInt(v, out var n) && n is >= 0 and < 100)],
        [ActionNames.ScaleOut] =
        [
            new("step", "a positive integer (replicas added per action)", v => TryInt(v, out var n) && n > 0),
            new("max", "a positive integer (replicas never exceeded; limits.maxReplicas caps it)", v => TryInt(v, out var n) && n > 0),
        ],
        [ActionNames.Restart] = [new("smallestStep", "true or false", v => bool.TryParse(v, out _))],
        [ActionNames.Rollback] = [],
        [ActionNames.DeletePod] = [],
        [ActionNames.Escalate] = [],
        [ActionNames.None] = [],
    };

    /// <summary>
    /// What is wrong with a rule's parameters for its action: (parameter, message) pairs, empty when the action can plan
    /// with them. An unknown action has no table here (the loader reports the action itself).
    /// </summary>
    public static IReadOnlyList<(string Parameter, string Message)> Problems(string action, IReadOnlyDictionary<string, string> parameters)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(parameters);
        if (!ByAction.TryGetValue(action, out var known))
        {
            return [];
        }
        var problems = new List<(string, string)>();
        foreach (var (name, value) in parameters)
        {
            var parameter = known.FirstOrDefault(p => p.Name == name);
            if (parameter is null)
            {
                problems.Add((name, known.Length == 0
                    ? $"action '{action}' takes no parameters, not '{name}'"
                    : $"unknown parameter '{name}' for action '{action}' (expected: {string.Join(", ", known.Select(p => p.Name))})"));
            }
            else if (!parameter.IsValid(value))
            {
                problems.Add((name, Invalid(parameter, value)));
            }
        }
        return problems;
    }

    /// <summary>An integer parameter of the action, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ActionNotApplicableException">The value is not one the action accepts (the message the loader reports).</exception>
    public static int Int(string action, IReadOnlyDictionary<string, string> parameters, string name, int fallback)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!parameters.TryGetValue(name, out var text))
        {
            return fallback;
        }
        var parameter = Find(action, name);
        return parameter.IsValid(text) && TryInt(text, out var value) ? value : throw new ActionNotApplicableException(Invalid(parameter, text));
    }

    /// <summary>A true/false parameter of the action, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ActionNotApplicableException">The value is not true or false.</exception>
    public static bool Bool(string action, IReadOnlyDictionary<string, string> parameters, string name, bool fallback)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!parameters.TryGetValue(name, out var text))
        {
            return fallback;
        }
        var parameter = Find(action, name);
        return bool.TryParse(text, out var value) ? value : throw new ActionNotApplicableException(Invalid(parameter, text));
    }

    private static Parameter Find(string action, string name) =>
        ByAction.TryGetValue(action, out var known) && known.FirstOrDefault(p => p.Name == name) is { } parameter
            ? parameter
            : throw new ArgumentException($"action '{action}' has no parameter '{name}'", nameof(name));

    private static string Invalid(Parameter parameter, string value) => $"parameter '{parameter.Name}' must be {parameter.Expected}, not '{value}'";

    private static bool TryInt(string text, out int value) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
}
