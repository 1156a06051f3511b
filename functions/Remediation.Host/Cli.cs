using System.CommandLine;
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
        var serve = new Command("serve", "Run the standalone host (webhook endpoints, queue worker, verification timer)") { urls };
        serve.SetAction(async (parse, ct) =>
        {
            var app = StandaloneHost.Build(["--urls", parse.GetValue(urls)!]);
            await app.RunAsync(ct).ConfigureAwait(false);
            return 0;
        });
        root.Subcommands.Add(serve);

        var storageOption = new Option<string>("--storage") { Description = "Storage connection string (Azurite or Azure)", Required = true };
        var kubeServer = new Option<string>("--kubernetes-server") { Description = "Kubernetes API server URL", Required = true };
        var payloadOption = new Option<FileInfo>("--payload") { Description = "Alertmanager webhook payload to post", Required = true };
        var demoPolicy = new Option<FileInfo>("--policy") { Description = "Policy file", Required = true };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the outcome", DefaultValueFactory = _ => 60 };
        var demo = new Command("demo", "Run the host, post an alert, and print diagnosis, action and recorded outcome") { storageOption, kubeServer, payloadOption, demoPolicy, urls, timeout };
        demo.SetAction(async (parse, ct) =>
        {
            foreach (var file in new[] { parse.GetValue(payloadOption)!, parse.GetValue(demoPolicy)! })
            {
                if (!file.Exists)
                {
                    errors.WriteLine($"file not found: {file.FullName}");
                    return 2;
                }
            }
            return await DemoCommand.RunAsync(new DemoCommand.Settings(parse.GetValue(storageOption)!, parse.GetValue(kubeServer)!,
                parse.GetValue(payloadOption)!.FullName, parse.GetValue(demoPolicy)!.FullName, parse.GetValue(urls)!, TimeSpan.FromSeconds(parse.GetValue(timeout))), output, ct).ConfigureAwait(false);
        });
        root.Subcommands.Add(demo);

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
        root.Subcommands.Add(new Command("policy", "Policy commands") { validate });

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
        return await parseResult.InvokeAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
    }
}
