using Remediation.Host;

return await Cli.RunAsync(args).ConfigureAwait(false);
