using Remediation.Storage;

namespace Remediation.Http;

/// <summary>
/// The history filters as the API, the page and the CLI read them, one way: <c>since</c> an RFC 3339 time (or a date,
/// midnight UTC), never a culture's date (1/2/2026 is two dates); <c>state</c> one of the states, in any case, its
/// canonical name returned (an unknown state matched nothing and read as "no incidents").
/// </summary>
public static class HistoryInput
{
    public const string SinceForm = "an RFC 3339 time such as 2026-11-26T03:00:00Z (or a date, 2026-11-26)";

    /// <summary>An RFC 3339 time (T or space, fraction, Z or an offset; lower-case t and z too) or a date; null otherwise.</summary>
    public static DateTimeOffset? Since(string? text) => Remediation.Text.Rfc3339.Parse(text, orDate: true);

    /// <summary>The history's filters and position: each may be given once (a repeated one was joined with ',' and matched nothing).</summary>
    public static readonly IReadOnlyList<string> Parameters = ["namespace", "workload", "state", "since", "limit", "continuation"];

    /// <summary>The first of <see cref="Parameters"/> given more than once, with how many times; null when none is.</summary>
    public static (string Name, int Times)? Repeated(Microsoft.AspNetCore.Http.IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Parameters.Select(name => (name, query[name].Count)).FirstOrDefault(p => p.Count > 1) is { name: { } name, Count: var times } ? (name, times) : null;
    }

    /// <summary>The refusal of a repeated parameter.</summary>
    public static string RepeatedProblem((string Name, int Times) repeated) => $"'{repeated.Name}' is given {repeated.Times} times; give it once";

    /// <summary>The state's canonical name for <paramref name="text"/> (any case); null when it names no state.</summary>
    public static string? State(string? text) =>
        Enum.GetNames<IncidentState>().FirstOrDefault(name => string.Equals(name, text?.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>What <c>state</c> must be, for a refusal.</summary>
    public static string StateForm => "one of " + string.Join(", ", Enum.GetNames<IncidentState>());
}
