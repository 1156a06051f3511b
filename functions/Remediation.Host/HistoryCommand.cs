using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Hosting;
using Remediation.Http;
using Remediation.Storage;

namespace Remediation.Host;

/// <summary>`remediation history`: recorded incidents from Table Storage, newest first, as a table or JSON.</summary>
public static class HistoryCommand
{
    public sealed record Filters(string? Namespace, string? Workload, string? State, string? Since, int Limit, string Output);

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
                errors.WriteLine($"--since must be an RFC 3339 time (2026-11-26T03:00:00Z) or an age like 30m, 12h, 7d; not '{sinceText}'");
                return 2;
            }
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
        IReadOnlyList<IncidentRecord> records;
        try
        {
            var services = new ServiceCollection();
            services.AddRemediationCore(configuration);
            await using var provider = services.BuildServiceProvider();
            var store = provider.GetRequiredService<IncidentStore>();
            records = await store.ListAsync(new IncidentQuery(filters.Namespace, filters.Workload, filters.State, since, filters.Limit), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TransientDependencyException or InvalidOperationException or FormatException or Azure.RequestFailedException)
        {
            errors.WriteLine(CliRun.Unreachable(ex, configuration));
            return 1;
        }
        var views = records.Select(IncidentView.From).ToList();
        if (filters.Output == "json")
        {
            output.WriteLine(JsonSerializer.Serialize(views, RemediationJsonContext.Default.ListIncidentView));
            return 0;
        }
        WriteTable(output, views);
        return 0;
    }

    /// <summary>An RFC 3339 time, or an age before <paramref name="now"/>: 90s, 30m, 12h, 7d.</summary>
    public static DateTimeOffset? ParseSince(string text, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length >= 2 && char.IsAsciiLetterLower(text[^1])
            && double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            TimeSpan? age = text[^1] switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                _ => null,
            };
            return age is { } a ? now - a : null;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
    }

    private static void WriteTable(TextWriter output, IReadOnlyList<IncidentView> incidents)
    {
        string[] header = ["RECEIVED (UTC)", "INCIDENT", "TARGET", "ALERT", "DIAGNOSIS", "ACTION", "STATE", "DURATION", "REASON"];
        var rows = incidents.Select(i => new[]
        {
            i.ReceivedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            i.IncidentId,
            $"{i.Namespace ?? "?"}/{i.Workload ?? "?"}",
            i.AlertName,
            i.Diagnosis ?? "-",
            i.Action ?? "-",
            i.State,
            i.CompletedAt is { } done ? (done - i.ReceivedAt).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s" : "-",
            Truncate(i.OutcomeReason ?? "", 80),
        }).ToList();
        var widths = header.Select((h, c) => rows.Select(r => r[c].Length).Append(h.Length).Max()).ToArray();
        output.WriteLine(Line(header, widths));
        foreach (var row in rows)
        {
            output.WriteLine(Line(row, widths));
        }
        output.WriteLine($"{incidents.Count} incident{(incidents.Count == 1 ? "" : "s")}");
    }

    private static string Line(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((cell, c) => c == cells.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd();

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
