using System.CommandLine;
using Remediation.Hosting;
using Remediation.Policy;

namespace Remediation.Host;

/// <summary>The `remediation` command line. Exit codes: 0 ok, 1 failure, 2 bad usage or input.</summary>
public static class Cli
{
    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var output = stdout ?? Console.Out;
        var errors = stderr ?? Console.Error;
        var root = new RootCommand("Remediation: event-driven auto-remediation for Kubernetes");

        var urls = new Option<string>("--urls") { Description = "Listen address", DefaultValueFactory = _ => StandaloneHost.DefaultUrl };
        root.Subcommands.Add(ServeCommand(urls, errors));
        root.Subcommands.Add(DemoCommandLine(urls, output, errors));
        root.Subcommands.Add(PolicyCommand(output, errors));
        AddPlanningCommands(root, output, errors);
        root.Subcommands.Add(ApprovalCommand.Create("approve", output, errors));
        root.Subcommands.Add(ApprovalCommand.Create("reject", output, errors));

        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var error in parseResult.Errors)
            {
                errors.WriteLine(error.Message);
            }
            errors.WriteLine("Run 'remediation --help' for usage.");
            return 2;
        }
        try
        {
            return await parseResult.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (OptionsRegistration.Problem(ex) is { } settings)
        {
            // A setting a command's services refuse (a table name, a kubeconfig path): one line naming it, as `serve` does.
            errors.WriteLine($"error: {settings}");
            return 2;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // What no command handles: written whole to stderr, exit 1 (as System.CommandLine's own handler did).
            errors.WriteLine($"error: {ex}");
            return 1;
        }
    }

    /// <summary>serve: the standalone host.</summary>
    private static Command ServeCommand(Option<string> urls, TextWriter errors)
    {
        var serve = new Command("serve", "Run the standalone host (webhook endpoints, queue worker, verification timer)") { urls };
        serve.SetAction(async (parse, ct) =>
        {
            Microsoft.AspNetCore.Builder.WebApplication app;
            try
            {
                app = StandaloneHost.Build(["--urls", parse.GetValue(urls)!]);
            }
            catch (HostSettingsException ex)
            {
                errors.WriteLine($"error: {ex.Message}");
                return 2;
            }
            catch (PolicyValidationException ex)
            {
                errors.WriteLine($"error: invalid policy: {string.Join("; ", ex.Errors)}");
                return 2;
            }
            try
            {
                await app.RunAsync(ct).ConfigureAwait(false);
            }
            catch (IOException ex) when (IsAddressInUse(ex))
            {
                errors.WriteLine($"error: {ex.Message.TrimEnd('.')}; pass --urls with a free port (e.g. --urls http://127.0.0.1:7072)");
                return 1;
            }
            return 0;
        });
        return serve;
    }

    /// <summary>demo: the host, one alert posted, its outcome printed.</summary>
    private static Command DemoCommandLine(Option<string> urls, TextWriter output, TextWriter errors)
    {
        var storageOption = new Option<string>("--storage") { Description = "Storage connection string (Azurite or Azure)", Required = true };
        var kubeServer = new Option<string>("--kubernetes-server") { Description = "Kubernetes API server URL", Required = true };
        var payloadOption = new Option<FileInfo>("--payload") { Description = "Alertmanager webhook payload to post", Required = true };
        var demoPolicy = new Option<FileInfo>("--policy") { Description = "Policy file", Required = true };
        var timeout = WholeNumber("--timeout", "Seconds to wait for the outcome (default 60)", 1, 86_400);
        var keepRunning = new Option<bool>("--keep-running") { Description = "Keep the host (and its history page) running after the outcome, until Ctrl+C" };
        var demo = new Command("demo", "Run the host, post an alert, and print diagnosis, action and recorded outcome") { storageOption, kubeServer, payloadOption, demoPolicy, urls, timeout, keepRunning };
        demo.SetAction(async (parse, ct) =>
        {
            foreach (var (option, file) in new[] { ("--payload", parse.GetValue(payloadOption)!), ("--policy", parse.GetValue(demoPolicy)!) })
            {
                if (FileProblem(option, file.FullName) is { } problem)
                {
                    errors.WriteLine(problem);
                    return 2;
                }
            }
            try
            {
                return await DemoCommand.RunAsync(new DemoCommand.Settings(parse.GetValue(storageOption)!, parse.GetValue(kubeServer)!,
                    parse.GetValue(payloadOption)!.FullName, parse.GetValue(demoPolicy)!.FullName, parse.GetValue(urls)!, TimeSpan.FromSeconds(parse.GetValue(timeout) ?? 60),
                    parse.GetValue(keepRunning)), output, ct).ConfigureAwait(false);
            }
            catch (HostSettingsException ex)
            {
                errors.WriteLine($"error: {ex.Message}");
                return 2;
            }
        });
        return demo;
    }

    /// <summary>policy validate: a policy file checked, errors with their lines.</summary>
    private static Command PolicyCommand(TextWriter output, TextWriter errors)
    {
        var policyFile = new Argument<FileInfo>("file") { Description = "Policy (runbook) file, YAML or JSON" };
        var validate = new Command("validate", "Validate a policy file; errors name their line") { policyFile };
        validate.SetAction(parse =>
        {
            var file = parse.GetValue(policyFile)!;
            try
            {
                var policy = PolicyLoader.LoadFile(file.FullName);
                output.WriteLine($"{file.Name}: valid ({policy.Rules.Count} rules, {policy.AllowedNamespaces.Count} allowlisted namespaces, dry-run {(policy.DryRun ? "on" : "off")})");
                return 0;
            }
            catch (PolicyValidationException ex)
            {
                foreach (var error in ex.Errors)
                {
                    errors.WriteLine(error);
                }
                return 2;
            }
        });
        return new Command("policy", "Policy commands") { validate };
    }

    /// <summary>Why <paramref name="path"/> (given as <paramref name="what"/>) is not a readable file, in one line; null when it is.</summary>
    public static string? FileProblem(string what, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            return $"{what}: {full} is a directory; expected a file";
        }
        return File.Exists(full) ? null : $"{what}: file not found: {full}";
    }

    /// <summary>plan, replay and history: read-only commands against the configured cluster and storage.</summary>
    private static void AddPlanningCommands(RootCommand root, TextWriter output, TextWriter errors)
    {
        var storage = new Option<string>("--storage") { Description = "Storage connection string (default: Remediation__Storage__ConnectionString)" };
        var kubernetesServer = new Option<string>("--kubernetes-server") { Description = "Kubernetes API server URL (default: Remediation__Kubernetes__ServerUrl)" };
        var kubeconfig = new Option<string>("--kubeconfig") { Description = "kubeconfig file (default: Remediation__Kubernetes__KubeconfigPath, in-cluster, ~/.kube/config)" };
        var context = new Option<string>("--context") { Description = "kubeconfig context" };
        var policy = new Option<string>("--policy") { Description = "Policy file (default: Remediation__PolicyPath; none = deny everything)" };
        var prometheus = new Option<string>("--prometheus") { Description = "Prometheus URL for Istio signals (default: Remediation__Prometheus__Url)" };
        var table = new Option<string>("--table") { Description = "Incidents table (default: Remediation__Storage__IncidentsTable, else 'incidents')" };
        CliConnection Connection(ParseResult parse) => new(parse.GetValue(storage), parse.GetValue(kubernetesServer), parse.GetValue(kubeconfig),
            parse.GetValue(context), parse.GetValue(policy), parse.GetValue(prometheus), parse.GetValue(table));

        var alertFile = new Argument<string>("alert.json") { Description = "Alertmanager webhook payload (version 4)" };
        var plan = new Command("plan", "Diagnose and decide for the alerts of a payload against the cluster; print the plan and its evidence; change nothing")
        {
            alertFile, kubernetesServer, kubeconfig, context, policy, storage, table, prometheus,
        };
        plan.SetAction((parse, ct) => PlanCommand.RunAsync(parse.GetValue(alertFile)!, Connection(parse), output, errors, ct));
        root.Subcommands.Add(plan);

        var replayPath = new Argument<string>("file-or-dir") { Description = "An Alertmanager payload file, or a directory of *.json payloads" };
        var strict = new Option<bool>("--strict") { Description = "Exit 2 when any file is not a valid payload (the valid ones are still replayed)" };
        var replay = new Command("replay", "Replay past Alertmanager payloads in dry run: what would have been done for each alert")
        {
            replayPath, kubernetesServer, kubeconfig, context, policy, storage, table, prometheus, strict,
        };
        replay.SetAction((parse, ct) => ReplayCommand.RunAsync(parse.GetValue(replayPath)!, parse.GetValue(strict), Connection(parse), output, errors, ct));
        root.Subcommands.Add(replay);

        root.Subcommands.Add(HistoryCommandLine(storage, table, Connection, output, errors));
    }

    /// <summary>history: recorded incidents, filtered, a page at a time.</summary>
    private static Command HistoryCommandLine(
        Option<string> storage, Option<string> table, Func<ParseResult, CliConnection> connection, TextWriter output, TextWriter errors)
    {
        var ns = new Option<string>("--namespace", "-n") { Description = "Only this namespace" };
        var workload = new Option<string>("--workload", "-w") { Description = "Only this workload" };
        var state = new Option<string>("--state", "--outcome") { Description = "Only this state/outcome (Succeeded, Failed, Escalated, Refused, Ignored, Verifying, ...)" };
        var since = new Option<string>("--since") { Description = "Received at or after: RFC 3339 time, or an age like 30m, 12h, 7d" };
        var limit = WholeNumber("--limit", "Most incidents to show (default: all, read a page at a time)", 1, int.MaxValue);
        var pageSize = WholeNumber("--page-size", $"Incidents read from storage per request (1-1000, default {HistoryCommand.DefaultPageSize})", 1, 1000);
        var format = new Option<string>("--output", "-o") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var history = new Command("history", "Recorded incidents and outcomes from Table Storage, streamed a page at a time, newest first by when the alert started firing")
        {
            storage, table, ns, workload, state, since, limit, pageSize, format,
        };
        history.SetAction((parse, ct) => HistoryCommand.RunAsync(connection(parse),
            new HistoryCommand.Filters(parse.GetValue(ns), parse.GetValue(workload), parse.GetValue(state), parse.GetValue(since), parse.GetValue(limit), parse.GetValue(format)!,
                parse.GetValue(pageSize) ?? HistoryCommand.DefaultPageSize),
            TimeProvider.System, output, errors, ct));
        return history;
    }

    /// <summary>
    /// An option taking a whole number from <paramref name="min"/> to <paramref name="max"/> (absent: null). Its refusal
    /// says the rule in plain words; the library's own names the .NET type it could not convert to, or throws from a validator.
    /// </summary>
    private static Option<int?> WholeNumber(string name, string description, int min, int max) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }
            var rule = max == int.MaxValue ? $"of at least {min}" : $"from {min} to {max}";
            result.AddError($"{name} must be a whole number {rule}, not '{Remediation.Text.DisplayText.Escape(text)}'");
            return null;
        },
    };

    /// <summary>Kestrel could not listen: the address is taken (its IOException wraps AddressInUseException).</summary>
    internal static bool IsAddressInUse(IOException ex) =>
        ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException;
}
