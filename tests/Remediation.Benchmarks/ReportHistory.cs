using System.Globalization;
using System.Text;

namespace Remediation.Benchmarks;

/// <summary>The history section of the report and its row of the Targets table.</summary>
public sealed partial class BenchReport
{
    public HistoryFigures? History { get; set; }

    private const double HistoryPageGoalMs = 100;

    private void HistoryTargets(List<(string Name, string Target, string Measured, bool Met)> t)
    {
        if (History is not { } h)
        {
            return;
        }
        var complete = h.Walks.All(w => w.Read == h.Seeded && w.Distinct == h.Seeded && w.NewestFirst) && h.NewestPageIsNewest;
        var worst = h.Walks.Select(w => w.PageMs.Percentile(99)).Append(h.NewestPageMs.Percentile(99)).Max();
        var walks = string.Join("; ", h.Walks.Select(w => $"{w.Surface} {w.PageSize}/page {F(w.PageMs.Percentile(99))} ms"));
        t.Add(($"history p99 per page ({h.Seeded:N0} incidents, API and CLI)", $"≤ {F(HistoryPageGoalMs, 0)} ms, all read once, newest first",
            $"newest page {F(h.NewestPageMs.Percentile(99))} ms; {walks}; {(complete ? "complete and in order" : "**incomplete or out of order**")}",
            worst <= HistoryPageGoalMs && complete));
    }

    private void HistorySection(StringBuilder b)
    {
        if (History is not { } h)
        {
            return;
        }
        b.AppendLine().AppendLine("## History at scale").AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"{h.Seeded:N0} incident summary rows (the product's own record type and ids; alert, diagnosis and plan JSON as recorded; starts spread over 30 days; 5 namespaces, 6 states) were written straight into a fresh Azurite table, 64 at a time, in {F(h.SeedSeconds)} s. Then the in-process host (worker off) served them. Each page is timed from request to last byte at the client. History is newest first by when the alert started firing: the incident id begins with the start time counted down, so Table Storage's key order is that order and the newest page is the first rows of the table. The CLI runs in the bench process (`remediation history -o json --page-size N`, one invocation for everything); a page's time ends when the CLI has written and flushed it.").AppendLine();
        b.AppendLine("| read | pages | p50 ms/page | p99 ms/page | total s | incidents read | distinct | newest first |").AppendLine("|---|---|---|---|---|---|---|---|");
        b.AppendLine(CultureInfo.InvariantCulture, $"| newest page, GET /api/remediations?limit=100 (repeated) | {h.NewestPageMs.Count} | {F(h.NewestPageMs.Percentile(50))} | {F(h.NewestPageMs.Percentile(99))} | | 100 | | {(h.NewestPageIsNewest ? "yes (first = newest seeded)" : "**no**")} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| newest page, GET /ui?limit=100, HTML with per-state counts (repeated) | {h.NewestUiPageMs.Count} | {F(h.NewestUiPageMs.Percentile(50))} | {F(h.NewestUiPageMs.Percentile(99))} | | 100 | | |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| floor: the newest 100 summary rows straight from Table Storage (no host) | {h.StorageFloorMs.Count} | {F(h.StorageFloorMs.Percentile(50))} | {F(h.StorageFloorMs.Percentile(99))} | | 100 | | |");
        foreach (var w in h.Walks.Append(h.StorageWalk))
        {
            var what = w.Surface switch
            {
                "API" => $"all, GET /api/remediations?limit={w.PageSize} + continuation",
                "CLI" => $"all, `remediation history -o json --page-size {w.PageSize}`",
                _ => $"floor: all, {w.PageSize} a page straight from Table Storage (no host)",
            };
            b.AppendLine(CultureInfo.InvariantCulture, $"| {what} | {w.Pages} | {F(w.PageMs.Percentile(50))} | {F(w.PageMs.Percentile(99))} | {F(w.TotalMs / 1000)} | {w.Read:N0} | {w.Distinct:N0} | {(w.NewestFirst ? "yes" : "**no**")} |");
        }
    }
}
