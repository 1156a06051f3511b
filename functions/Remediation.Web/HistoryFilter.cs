using System.Globalization;
using Microsoft.AspNetCore.Http;
using Remediation.Storage;

namespace Remediation.Http;

/// <summary>
/// The history page's filters and position, read from the query string; <see cref="Problem"/> says what was malformed.
/// <see cref="Continuation"/> is where this page starts (null: the first page), <see cref="Back"/> the starts of the pages
/// before it, oldest first ("" for the first page).
/// </summary>
public sealed record HistoryFilter(string? Namespace, string? Workload, string? State, DateTimeOffset? Since, string? SinceText, int Limit, string? Problem,
    IncidentCursor? Continuation = null, IReadOnlyList<string>? BackStack = null)
{
    public const int DefaultLimit = 100;

    /// <summary>Separates the page starts of <c>back</c> (never part of a base64url token).</summary>
    public const string BackSeparator = ".";

    public IReadOnlyList<string> Back => BackStack ?? [];

    public string? ContinuationText => Continuation?.Encode();

    public static HistoryFilter FromQuery(IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        string? problem = null;
        var limit = DefaultLimit;
        var limitText = NonEmpty(query["limit"]);
        if (limitText is not null && (!int.TryParse(limitText, NumberStyles.Integer, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > AlertEndpoints.MaxPageSize))
        {
            problem = $"'limit' (the page size) must be an integer from 1 to {AlertEndpoints.MaxPageSize}, not '{limitText}'";
            limit = DefaultLimit;
        }
        DateTimeOffset? since = null;
        var sinceText = NonEmpty(query["since"]);
        if (sinceText is not null)
        {
            since = HistoryInput.Since(sinceText);
            if (since is null)
            {
                problem = $"'since' must be {HistoryInput.SinceForm}, not '{sinceText}'";
            }
        }
        if (HistoryInput.Repeated(query) is { } repeated)
        {
            problem = HistoryInput.RepeatedProblem(repeated);
        }
        var stateText = NonEmpty(query["state"]);
        var state = HistoryInput.State(stateText);
        if (stateText is not null && state is null)
        {
            problem = $"'state' must be {HistoryInput.StateForm}, not '{stateText}'";
        }
        IncidentCursor? continuation = null;
        if (NonEmpty(query["continuation"]) is { } continuationText && !IncidentCursor.TryParse(continuationText, out continuation))
        {
            problem = "'continuation' is not a page position of this history; start again from the first page";
        }
        List<string> back = [];
        if (query.TryGetValue("back", out var backText))
        {
            back = (backText.ToString() ?? "").Split(BackSeparator).TakeLast(HistoryPage.MaxBack).ToList();
            if (back.Any(b => b.Length > 0 && !IncidentCursor.TryParse(b, out _)))
            {
                problem = "'back' is not a list of page positions of this history; start again from the first page";
                back = [];
            }
        }
        return new HistoryFilter(NonEmpty(query["namespace"]), NonEmpty(query["workload"]), state, since, sinceText, limit, problem,
            problem is null ? continuation : null, back);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
