using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Hosting;
using Remediation.Http;
using Remediation.Storage;
using Remediation.Text;

namespace Remediation.Host;

/// <summary>
/// `remediation history`: recorded incidents from Table Storage, read and written a page at a time (so any number of
/// them, in constant memory): a table, or JSON lines (one incident per line). Order: newest first by when the alert
/// started firing, across pages (<see cref="IIncidentHistory.ListPageAsync"/>). Text from alerts is shown with
/// control and bidi characters escaped (<see cref="DisplayText"/>).
/// </summary>
public static class HistoryCommand
{
    public const int DefaultPageSize = 1000;

    /// <summary><paramref name="Limit"/> null: every incident.</summary>
    public sealed record Filters(string? Namespace, string? Workload, string? State, string? Since, int? Limit, string Output, int PageSize = DefaultPageSize);

    public static async Task<int> RunAsync(CliConnection connection, Filters filters, TimeProvider timeProvider, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(filters);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(errors);
        DateTimeOffset? since = null;
        if (filters.Since is { Length: > 0 } sinceText)
        {
            since = ParseSince(sinceText, timeProvider.GetUtcNow());
            if (since is null)
            {
                errors.WriteLine($"--since must be {HistoryInput.SinceForm} or an age like 30m, 12h, 7d; not '{DisplayText.Escape(sinceText)}'");
                return 2;
            }
        }
        string? state = null;
        if (filters.State is { Length: > 0 } stateText && (state = HistoryInput.State(stateText)) is null)
        {
            errors.WriteLine($"--state must be {HistoryInput.StateForm}; not '{DisplayText.Escape(stateText)}'");
            return 2;
        }
        var configuration = connection.BuildConfiguration();
        if (!CliConnection.HasStorage(configuration))
        {
            errors.WriteLine("no storage configured: pass --storage or set Remediation__Storage__ConnectionString");
            return 2;
        }
        if (HostSettings.StorageProblem(configuration, connection.Storage is null ? "Remediation__Storage__ConnectionString" : "--storage") is { } storageProblem)
        {
            errors.WriteLine(storageProblem);
            return 2;
        }
        var json = filters.Output == "json";
        var table = json ? null : new TableWriter(output);
        try
        {
            var services = new ServiceCollection();
            services.AddRemediationCore(configuration);
            await using var provider = services.BuildServiceProvider();
            await WriteAsync(provider.GetRequiredService<IIncidentHistory>(), new IncidentQuery(filters.Namespace, filters.Workload, state, since, Select: IncidentStore.ListColumns),
                filters, table, output, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TransientDependencyException or InvalidOperationException or FormatException or Azure.RequestFailedException)
        {
            errors.WriteLine(CliRun.Unreachable(ex, configuration));
            return 1;
        }
        table?.End();
        return 0;
    }

    /// <summary>Reads the history a page at a time and writes each page as it comes: a table, or JSON lines without one.</summary>
    private static async Task WriteAsync(IIncidentHistory history, IncidentQuery query, Filters filters, TableWriter? table, TextWriter output, CancellationToken cancellationToken)
    {
        var written = 0;
        IncidentCursor? from = null;
        do
        {
            var wanted = filters.Limit is { } limit ? Math.Min(filters.PageSize, limit - written) : filters.PageSize;
            var page = await history.ListPageAsync(query, wanted, from, cancellationToken).ConfigureAwait(false);
            foreach (var view in page.Incidents.Select(IncidentView.From))
            {
                if (table is null)
                {
                    output.WriteLine(JsonSerializer.Serialize(view, WebJsonContext.Default.IncidentView));
                }
                else
                {
                    table.Write(view);
                }
                written++;
            }
            table?.Flush();
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            from = page.Continuation;
        }
        while (from is not null && (filters.Limit is not { } max || written < max));
    }

    /// <summary>
    /// An RFC 3339 time (<see cref="HistoryInput.Since"/>), or an age before <paramref name="now"/>: 90s, 30m, 12h, 7d;
    /// null for anything else, an age reaching before year 1 included.
    /// </summary>
    public static DateTimeOffset? ParseSince(string text, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length >= 2 && char.IsAsciiLetterLower(text[^1])
            && double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            var unit = text[^1] switch
            {
                's' => TimeSpan.TicksPerSecond,
                'm' => TimeSpan.TicksPerMinute,
                'h' => TimeSpan.TicksPerHour,
                'd' => TimeSpan.TicksPerDay,
                _ => 0,
            };
            var ticks = amount * unit;
            return unit > 0 && ticks <= (now - DateTimeOffset.MinValue).Ticks ? now - TimeSpan.FromTicks((long)ticks) : null;
        }
        return HistoryInput.Since(text);
    }

    /// <summary>
    /// The table, streamed: the header and column widths come from the first page (at least the header's width); a
    /// longer cell of a later page shifts the rest of its own row only.
    /// </summary>
    private sealed class TableWriter(TextWriter output)
    {
        private static readonly string[] Header = ["RECEIVED (UTC)", "INCIDENT", "TARGET", "ALERT", "DIAGNOSIS", "ACTION", "STATE", "DURATION", "REASON"];
        private readonly List<string[]> _pending = [];
        private int[]? _widths;
        private int _count;

        public void Write(IncidentView i)
        {
            string[] row =
            [
                i.ReceivedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                DisplayText.Escape(i.IncidentId),
                DisplayText.Escape($"{i.Namespace ?? "?"}/{i.Workload ?? "?"}"),
                DisplayText.Escape(i.AlertName),
                DisplayText.Escape(i.Diagnosis ?? "-"),
                DisplayText.Escape(i.Action ?? "-"),
                DisplayText.Escape(i.State),
                i.CompletedAt is { } done ? (done - i.ReceivedAt).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s" : "-",
                Truncate(DisplayText.Escape(i.OutcomeReason), 80),
            ];
            _count++;
            if (_widths is null)
            {
                _pending.Add(row);
                if (_pending.Count >= DefaultPageSize)
                {
                    Flush();
                }
                return;
            }
            output.WriteLine(Line(row, _widths));
        }

        /// <summary>Writes the buffered first rows (with the header); called at the end of every page and at the end.</summary>
        public void Flush()
        {
            if (_widths is not null || _pending.Count == 0)
            {
                return;
            }
            _widths = Header.Select((h, c) => _pending.Select(r => r[c].Length).Append(h.Length).Max()).ToArray();
            output.WriteLine(Line(Header, _widths));
            foreach (var row in _pending)
            {
                output.WriteLine(Line(row, _widths));
            }
            _pending.Clear();
        }

        public void End()
        {
            if (_widths is null && _pending.Count == 0)
            {
                _widths = Header.Select(h => h.Length).ToArray();
                output.WriteLine(Line(Header, _widths));
            }
            Flush();
            output.WriteLine($"{_count} incident{(_count == 1 ? "" : "s")}");
        }
    }

    private static string Line(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((cell, c) => c == cells.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd();

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
