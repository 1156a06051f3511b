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
        string[] files;
        if (Directory.Exists(path))
        {
            files = Directory.GetFiles(path, "*.json", SearchOption.AllDirectories);
            Array.Sort(files, StringComparer.Ordinal);
            if (files.Length == 0)
            {
                errors.WriteLine($"no *.json alert payloads in {Path.GetFullPath(path)}");
                return 2;
            }
        }
        else if (File.Exists(path))
        {
            files = [path];
        }
        else
        {
            errors.WriteLine($"file or directory not found: {Path.GetFullPath(path)}");
            return 2;
        }

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
        if (payloads.Count == 0)
        {
            ListInvalid(errors, invalid, files.Length);
            errors.WriteLine("no valid Alertmanager payload to replay");
            return 2;
        }

        return await CliRun.WithPlanningAsync(connection, errors, async (planning, hasStorage) =>
        {
            PlanCommand.PrintContext(output, planning.Policy, hasStorage);
            var total = payloads.Sum(p => p.Alerts.Count);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var tally = new SortedDictionary<string, int>(StringComparer.Ordinal);
            var done = 0;
            foreach (var (file, alerts) in payloads)
            {
                var name = Path.GetRelativePath(Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!, file);
                for (var i = 0; i < alerts.Count; i++)
                {
                    var alert = alerts[i];
                    Progress(errors, ++done, total, name);
                    string verdict;
                    string? diagnosis = null;
                    if (alert.Status == AlertStatus.Resolved && seen.Contains(alert.IncidentId))
                    {
                        verdict = $"resolution of incident {alert.IncidentId}: recorded, never acted on";
                        Count(tally, "resolved");
                    }
                    else if (alert.Status == AlertStatus.Firing && !seen.Add(alert.IncidentId))
                    {
                        verdict = $"duplicate: incident {alert.IncidentId} was already delivered; acknowledged, not processed again";
                        Count(tally, "duplicate");
                    }
                    else
                    {
                        var plan = await planning.PlanAsync(alert, cancellationToken).ConfigureAwait(false);
                        verdict = AlertPlanning.Verdict(plan.Decision);
                        diagnosis = plan.Diagnosis is { } d ? $"{d.Class}: {d.Summary}" : null;
                        Count(tally, plan.Decision is { Kind: DecisionKind.Act, Plan: { } actionPlan } ? "would " + actionPlan.Action : plan.Decision.State.ToString());
                    }
                    output.WriteLine($"{name}#{i} {alert.Name} {alert.Status.ToString().ToLowerInvariant()} {alert.Target?.ToString() ?? "(no target)"} starts {alert.StartsAt:yyyy-MM-ddTHH:mm:ssZ}");
                    if (diagnosis is not null)
                    {
                        output.WriteLine($"  diagnosis {diagnosis}");
                    }
                    output.WriteLine($"  → {verdict}");
                }
            }
            errors.WriteLine();
            output.WriteLine();
            output.WriteLine($"replayed {total} alerts from {payloads.Count} files (dry run: nothing applied): {string.Join(", ", tally.Select(t => $"{t.Key} {t.Value}"))}");
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
