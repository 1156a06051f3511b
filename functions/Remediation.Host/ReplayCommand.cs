using Remediation.Alerts;
using Remediation.Pipeline;

namespace Remediation.Host;

/// <summary>
/// `remediation replay file-or-dir`: feeds past Alertmanager payloads through diagnose + decide (nothing is
/// applied) and reports what would have been done per alert, with a progress line on stderr. Every file is parsed
/// first; the valid ones are replayed and the invalid ones listed with their reasons (file and field). Exit 0, or 2
/// with <c>strict</c> when any file is invalid, and 2 when no file is valid. Each alert is planned against the cluster
/// as it is now.
/// </summary>
public static class ReplayCommand
{
    public static Task<int> RunAsync(string path, CliConnection connection, TextWriter output, TextWriter errors, CancellationToken cancellationToken) =>
        RunAsync(path, strict: false, connection, output, errors, cancellationToken);

    public static async Task<int> RunAsync(string path, bool strict, CliConnection connection, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(errors);
        if (PayloadFiles(path, errors) is not { } files)
        {
            return 2;
        }
        var (payloads, invalid) = await ReadPayloadsAsync(files, cancellationToken).ConfigureAwait(false);
        if (payloads.Count == 0)
        {
            ListInvalid(errors, invalid, files.Length);
            errors.WriteLine("no valid Alertmanager payload to replay");
            return 2;
        }

        return await CliRun.WithPlanningAsync(connection, errors, async (planning, hasStorage) =>
        {
            PlanCommand.PrintContext(output, planning.Policy, hasStorage);
            var replay = new Replay(planning, output, errors, payloads.Sum(p => p.Alerts.Count));
            foreach (var (file, alerts) in payloads)
            {
                var name = Path.GetRelativePath(Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!, file);
                for (var i = 0; i < alerts.Count; i++)
                {
                    await replay.AlertAsync($"{name}#{i}", name, alerts[i], cancellationToken).ConfigureAwait(false);
                }
            }
            errors.WriteLine();
            output.WriteLine();
            output.WriteLine($"replayed {replay.Total} alerts from {payloads.Count} files (dry run: nothing applied): {string.Join(", ", replay.Tally.Select(t => $"{t.Key} {t.Value}"))}");
            if (invalid.Count > 0)
            {
                output.WriteLine($"skipped {invalid.Count} of {files.Length} files: not valid Alertmanager payloads (listed on stderr)");
                ListInvalid(errors, invalid, files.Length);
                if (strict)
                {
                    errors.WriteLine("--strict: exit 2 because some files are not valid Alertmanager payloads");
                    return 2;
                }
            }
            return 0;
        }).ConfigureAwait(false);
    }

    /// <summary>The payload files to replay, sorted; null (after saying why) when there are none.</summary>
    private static string[]? PayloadFiles(string path, TextWriter errors)
    {
        if (Directory.Exists(path))
        {
            var files = Directory.GetFiles(path, "*.json", SearchOption.AllDirectories);
            Array.Sort(files, StringComparer.Ordinal);
            if (files.Length == 0)
            {
                errors.WriteLine($"no *.json alert payloads in {Path.GetFullPath(path)}");
                return null;
            }
            return files;
        }
        if (File.Exists(path))
        {
            return [path];
        }
        errors.WriteLine($"file or directory not found: {Path.GetFullPath(path)}");
        return null;
    }

    /// <summary>Every file parsed first: the valid payloads, and a line per invalid file naming the field.</summary>
    private static async Task<(List<(string File, IReadOnlyList<NormalizedAlert> Alerts)> Payloads, List<string> Invalid)> ReadPayloadsAsync(
        string[] files, CancellationToken cancellationToken)
    {
        var payloads = new List<(string File, IReadOnlyList<NormalizedAlert> Alerts)>(files.Length);
        var invalid = new List<string>();
        foreach (var file in files)
        {
            try
            {
                payloads.Add((file, await AlertPlanning.ReadAlertsAsync(file, cancellationToken).ConfigureAwait(false)));
            }
            catch (AlertParseException ex)
            {
                invalid.Add($"{file}: field '{ex.Field}': {ex.Message}");
            }
        }
        return (payloads, invalid);
    }

    /// <summary>One replay's running state: incidents seen (duplicates, resolutions), the tally of verdicts, progress.</summary>
    private sealed class Replay(AlertPlanning planning, TextWriter output, TextWriter errors, int total)
    {
        private readonly HashSet<string> seen = new(StringComparer.Ordinal);
        private int done;

        public int Total => total;

        public SortedDictionary<string, int> Tally { get; } = new(StringComparer.Ordinal);

        public async Task AlertAsync(string label, string file, NormalizedAlert alert, CancellationToken cancellationToken)
        {
            Progress(errors, ++done, total, file);
            string verdict;
            string? diagnosis = null;
            if (alert.Status == AlertStatus.Resolved && seen.Contains(alert.IncidentId))
            {
                verdict = $"resolution of incident {alert.IncidentId}: recorded, never acted on";
                Count(Tally, "resolved");
            }
            else if (alert.Status == AlertStatus.Firing && !seen.Add(alert.IncidentId))
            {
                verdict = $"duplicate: incident {alert.IncidentId} was already delivered; acknowledged, not processed again";
                Count(Tally, "duplicate");
            }
            else
            {
                var plan = await planning.PlanAsync(alert, cancellationToken).ConfigureAwait(false);
                verdict = AlertPlanning.Verdict(plan.Decision);
                diagnosis = plan.Diagnosis is { } d ? $"{d.Class}: {d.Summary}" : null;
                Count(Tally, plan.Decision is { Kind: DecisionKind.Act, Plan: { } actionPlan } ? "would " + actionPlan.Action : plan.Decision.State.ToString());
            }
            output.WriteLine($"{label} {alert.Name} {alert.Status.ToString().ToLowerInvariant()} {alert.Target?.ToString() ?? "(no target)"} starts {alert.StartsAt:yyyy-MM-ddTHH:mm:ssZ}");
            if (diagnosis is not null)
            {
                output.WriteLine($"  diagnosis {diagnosis}");
            }
            output.WriteLine($"  → {verdict}");
        }
    }

    private static void ListInvalid(TextWriter errors, List<string> invalid, int files)
    {
        if (invalid.Count == 0)
        {
            return;
        }
        errors.WriteLine($"{invalid.Count} of {files} files are not valid Alertmanager payloads:");
        foreach (var line in invalid)
        {
            errors.WriteLine(line);
        }
    }

    private static void Count(SortedDictionary<string, int> tally, string key) => tally[key] = tally.GetValueOrDefault(key) + 1;

    /// <summary>A one-line progress bar, redrawn with a carriage return.</summary>
    private static void Progress(TextWriter errors, int done, int total, string current)
    {
        const int width = 30;
        var filled = total == 0 ? width : done * width / total;
        errors.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {done}/{total} {current}".PadRight(width + 60));
        errors.Flush();
    }
}
