using System.Globalization;
using System.Runtime.InteropServices;
using Remediation.ClusterSimulator;

var port = 6443;
var scenarios = new List<string>();
string? kubeconfig = null;
var seed = 1;
var readyAfter = TimeSpan.FromSeconds(1);

static int Usage(string error)
{
    Console.Error.WriteLine($"cluster-simulator: {error}");
    Console.Error.WriteLine("usage: cluster-simulator [--port N] [--scenario FILE.yaml ...] [--kubeconfig OUT.yaml] [--seed N] [--pod-ready-after 1s]");
    return 2;
}

for (var i = 0; i < args.Length; i++)
{
    string? Next() => i + 1 < args.Length ? args[++i] : null;
    switch (args[i])
    {
        case "--port":
            if (!int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
            {
                return Usage("--port needs a number between 0 and 65535");
            }

            break;
        case "--scenario":
            var scenario = Next();
            if (scenario is null || !File.Exists(scenario))
            {
                return Usage($"--scenario needs an existing file (got \"{scenario}\")");
            }
            scenarios.Add(scenario);

            break;
        case "--kubeconfig":
            kubeconfig = Next();
            if (kubeconfig is null)
            {
                return Usage("--kubeconfig needs a path");
            }

            break;
        case "--seed":
            if (!int.TryParse(Next(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out seed))
            {
                return Usage("--seed needs a number");
            }

            break;
        case "--pod-ready-after":
            var text = Next();
            try
            {
                readyAfter = text is null ? throw new FormatException("missing value") : ParseDuration(text);
            }
            catch (FormatException ex)
            {
                return Usage($"--pod-ready-after: {ex.Message}");
            }

            break;
        case "-h" or "--help":
            Console.WriteLine("usage: cluster-simulator [--port N] [--scenario FILE.yaml ...] [--kubeconfig OUT.yaml] [--seed N] [--pod-ready-after 1s]");
            return 0;
        default:
            return Usage($"unknown argument \"{args[i]}\"");
    }
}

SimulatedCluster cluster;
try
{
    cluster = await SimulatedCluster.StartAsync(new SimulatorOptions { Port = port, Seed = seed, PodReadyAfter = readyAfter });
}
catch (IOException ex)
{
    Console.Error.WriteLine($"cluster-simulator: cannot listen on 127.0.0.1:{port}: {ex.Message}");
    return 1;
}

await using (cluster)
{
    foreach (var scenario in scenarios)
    {
        try
        {
            cluster.LoadScenarioFile(scenario);
        }
        catch (FormatException ex)
        {
            Console.Error.WriteLine($"cluster-simulator: invalid scenario {scenario}: {ex.Message}");
            return 2;
        }
        catch (System.Text.Json.JsonException ex)
        {
            Console.Error.WriteLine($"cluster-simulator: invalid scenario {scenario}: {ex.Message}");
            return 2;
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            Console.Error.WriteLine($"cluster-simulator: invalid scenario {scenario}: {ex.Message}");
            return 2;
        }
    }

    if (kubeconfig is not null)
    {
        cluster.WriteKubeconfig(kubeconfig);
        Console.WriteLine($"kubeconfig written to {kubeconfig}");
    }

    Console.WriteLine($"cluster simulator listening on {cluster.BaseAddress}");
    var done = new TaskCompletionSource();
    using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx =>
    {
        ctx.Cancel = true;
        done.TrySetResult();
    });
    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
    {
        ctx.Cancel = true;
        done.TrySetResult();
    });
    await done.Task;
    Console.WriteLine("cluster simulator stopping");
}

return 0;

static TimeSpan ParseDuration(string text)
{
    var converter = new DurationConverter();
    var json = System.Text.Encoding.UTF8.GetBytes("\"" + text + "\"");
    var reader = new System.Text.Json.Utf8JsonReader(json);
    reader.Read();
    try
    {
        return converter.Read(ref reader, typeof(TimeSpan?), new System.Text.Json.JsonSerializerOptions()) ?? TimeSpan.Zero;
    }
    catch (System.Text.Json.JsonException ex)
    {
        throw new FormatException(ex.Message, ex);
    }
}
