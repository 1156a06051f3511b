using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Remediation.Http.History;

/// <summary>Links of the history page: its own filters at another page start or state (relative query strings).</summary>
internal static class HistoryLinks
{
    /// <summary>This page's filters at the page starting at <paramref name="continuation"/> (null: the first).</summary>
    public static string To(HistoryFilter filter, string? continuation, IReadOnlyList<string> back)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(back);
        var query = new List<KeyValuePair<string, string?>>();
        void Add(string key, string? value)
        {
            if (value is not null)
            {
                query.Add(new(key, value));
            }
        }
        Add("namespace", filter.Namespace);
        Add("workload", filter.Workload);
        Add("state", filter.State);
        Add("since", filter.SinceText);
        Add("limit", filter.Limit == HistoryFilter.DefaultLimit ? null : filter.Limit.ToString(CultureInfo.InvariantCulture));
        Add("continuation", continuation);
        Add("back", back.Count == 0 ? null : string.Join(HistoryFilter.BackSeparator, back));
        return query.Count == 0 ? "?" : QueryString.Create(query).ToUriComponent();
    }

    /// <summary>The first page of these filters with the state filter set to <paramref name="state"/>.</summary>
    public static string ForState(HistoryFilter filter, string state) => To(filter with { State = state }, null, []);

    public static string First(HistoryFilter filter) => To(filter, null, []);

    /// <summary>The page before this one (the last entry of <c>back</c>; "" there is the first page), or null.</summary>
    public static string? Previous(HistoryFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.Back.Count == 0)
        {
            return null;
        }
        var previous = filter.Back[^1];
        return To(filter, previous.Length == 0 ? null : previous, filter.Back.Take(filter.Back.Count - 1).ToList());
    }

    /// <summary>The page starting at <paramref name="next"/>, remembering this one's start (at most <see cref="HistoryPage.MaxBack"/>).</summary>
    public static string Next(HistoryFilter filter, Storage.IncidentCursor next)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(next);
        var back = filter.Back.Append(filter.ContinuationText ?? "").TakeLast(HistoryPage.MaxBack).ToList();
        return To(filter, next.Encode(), back);
    }
}
