using System.Globalization;
using Remediation.Benchmarks;

// remediation-bench: Azurite (process) + cluster simulator (in-process) + the standalone host on loopback.
// Usage: remediation-bench --host-dll PATH [--startup NAME=DIR ...] [--out docs/BENCHMARKS.md] [--quick] [--skip-micro]
var settings = BenchSettings.Parse(args);
var machine = MachineInfo.Collect(settings);
Console.WriteLine($"machine: {machine.Cores} cores, {machine.Os}, .NET {machine.Runtime}, commit {machine.Commit ?? "n/a"}");

var report = new BenchReport { Machine = machine, Settings = settings };
if (!settings.SkipMicro)
{
    Console.WriteLine("== hot paths (BenchmarkDotNet, in-process, short job)");
    report.Micro = HotPaths.Run();
}

// Each phase gets its own Azurite (an emulator slows down as it fills: the ack phase leaves thousands of rows and
// unconsumed messages behind), so every measurement starts from the same empty storage.
await using (var cluster = await BenchCluster.StartAsync(settings.E2eWarmup + settings.E2eIncidents, settings.StormWorkloads))
{
    Console.WriteLine($"simulator {cluster.BaseAddress}; a fresh Azurite per phase");
    double? azuritePeak = null;
    async Task<T> WithAzuriteAsync<T>(Func<AzuriteProcess, Task<T>> phase)
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        T result;
        try
        {
            result = await phase(azurite);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // One phase failing does not lose the others' figures: the report names it and what it said.
            Console.WriteLine($"  PHASE FAILED: {ex.GetType().Name}: {ex.Message}");
            report.FailedPhases.Add(ex.Message.Length > 300 ? ex.Message[..300] : ex.Message);
            return default!;
        }
        if (azurite.ProcessId is { } pid && ProcStatus.PeakRssMb(pid) is { } peak)
        {
            azuritePeak = Math.Max(azuritePeak ?? 0, peak);
        }
        return result;
    }
    if (settings.Runs("ack"))
    {
        Console.WriteLine("== ack latency and throughput: POST /api/alerts/alertmanager (in-process host, worker off)");
        report.Ack = await WithAzuriteAsync(azurite => Phases.AckAsync(azurite, cluster, settings));
    }
    if (settings.Runs("e2e"))
    {
        Console.WriteLine("== end-to-end latency and the physical limit (in-process host, worker on)");
        report.E2e = await WithAzuriteAsync(azurite => Phases.EndToEndAsync(azurite, cluster, settings));
    }
    if (settings.Runs("storm"))
    {
        Console.WriteLine("== alert storm (host as its own process)");
        report.Storm = await WithAzuriteAsync(azurite => Phases.StormAsync(azurite, cluster, settings));
    }
    if (settings.Runs("capacity"))
    {
        Console.WriteLine("== capacity: storage requests per alert, duplicate, incident, remediation (counted by the host)");
        report.Capacity = await WithAzuriteAsync(azurite => Phases.CapacityAsync(azurite, cluster, settings));
    }
    if (settings.Runs("soak"))
    {
        Console.WriteLine("== soak (host as its own process, worker on)");
        report.Soak = await WithAzuriteAsync(azurite => Phases.SoakAsync(azurite, settings));
    }
    if (settings.Runs("history"))
    {
        Console.WriteLine("== history at scale: newest page and paging through all (API, CLI, page)");
        report.History = await WithAzuriteAsync(azurite => Phases.HistoryAsync(azurite, cluster, settings));
    }
    if (settings.Runs("approval"))
    {
        Console.WriteLine("== approval: approve through the API → mutation acknowledged (in-process host, worker on)");
        report.Approval = await WithAzuriteAsync(azurite => Phases.ApprovalAsync(azurite, settings));
    }
    if (settings.Runs("graph"))
    {
        Console.WriteLine("== service graph: the product's reading vs the same PromQL issued directly (real Prometheus)");
        report.ServiceGraph = await Phases.ServiceGraphAsync(settings);
    }
    if (settings.StartupVariants.Count > 0 && settings.Runs("startup"))
    {
        Console.WriteLine("== start → ready (process start → first 200 on /healthz)");
        report.Startup = await WithAzuriteAsync(azurite => Phases.StartupAsync(azurite, cluster, settings));
    }
    report.AzuritePeakRssMb = azuritePeak;
}
if (settings.Runs("growth"))
{
    Console.WriteLine("== growth: the storm at growing sizes (a fresh Azurite and simulator per size)");
    report.Growth = await Phases.GrowthAsync(settings);
}

var markdown = report.Markdown();
Console.WriteLine();
Console.WriteLine(report.ConsoleTable());
var outPath = Path.GetFullPath(settings.OutPath);
Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
await File.WriteAllTextAsync(outPath, markdown);
Console.WriteLine($"written: {outPath}");
return 0;

namespace Remediation.Benchmarks
{
    /// <summary>What to run, how much. Fixed counts and rates, so runs are comparable; --quick is a smoke run only.</summary>
    public sealed class BenchSettings
    {
        public string HostDll { get; private set; } = Path.Combine(Repo.Root, "functions", "Remediation.Host", "bin", "Release", "net10.0", "remediation.dll");
        public string OutPath { get; private set; } = Path.Combine(Repo.Root, "docs", "BENCHMARKS.md");
        public bool Quick { get; private set; }
        public bool SkipMicro { get; private set; }
        /// <summary>Phases to run (ack, e2e, storm, capacity, soak, history, approval, graph, startup, growth); empty = all. For investigating one phase; the report then has gaps.</summary>
        public HashSet<string> Only { get; private set; } = [];
        public bool Runs(string phase) => Only.Count == 0 || Only.Contains(phase);
        public List<(double Rate, double Seconds)> Rates { get; private set; } = [(50, 10), (200, 10), (1000, 5)];
        public List<(int Senders, int PerRequest)> Saturation { get; } = [(16, 1), (8, 50)];
        public double SaturationSeconds { get; private set; } = 8;
        public int E2eIncidents { get; private set; } = 200;
        public int E2eWarmup { get; private set; } = 10;
        public double E2eRate { get; private set; } = 4;
        public int StormAlerts { get; private set; } = 10_000;
        public int StormWorkloads { get; } = 100;
        public int StormGroupSize { get; } = 50;
        public int StormSenders { get; } = 8;
        public int StormQueueConcurrency { get; private set; } = 16;
        public double StormTimeoutSeconds { get; private set; } = 300;
        public int StartupRuns { get; private set; } = 5;
        public int HistoryIncidents { get; private set; } = 100_000;
        public int HistoryNewestRepeats { get; private set; } = 200;
        public int HistoryUiRepeats { get; private set; } = 20;
        public int ApprovalIncidents { get; private set; } = 30;
        public int GraphReads { get; private set; } = 100;
        public List<(string Name, string Directory)> StartupVariants { get; } = [];
        /// <summary>--growth-sizes 30000:300,…: the growth storms to run (alerts:workloads), for investigating one size.</summary>
        public List<(int Alerts, int Workloads)>? GrowthSizes { get; private set; }

        public static BenchSettings Parse(string[] args)
        {
            var s = new BenchSettings();
            for (var i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--host-dll": s.HostDll = Path.GetFullPath(args[++i]); break;
                    case "--out": s.OutPath = args[++i]; break;
                    case "--skip-micro": s.SkipMicro = true; break;
                    case "--only": s.Only = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal); break;
                    case "--storm-concurrency": s.StormQueueConcurrency = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--growth-sizes":
                        s.GrowthSizes = [.. args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split(':')).Select(p => (int.Parse(p[0], CultureInfo.InvariantCulture), int.Parse(p[1], CultureInfo.InvariantCulture)))];
                        break;
                    case "--startup":
                        var parts = args[++i].Split('=', 2);
                        s.StartupVariants.Add((parts[0], Path.GetFullPath(parts[1])));
                        break;
                    case "--quick":
                        s.Quick = true;
                        s.Rates = [(50, 2), (200, 2), (1000, 2)];
                        s.SaturationSeconds = 2;
                        s.E2eIncidents = 10;
                        s.E2eWarmup = 3;
                        s.StormAlerts = 1_000;
                        s.StormTimeoutSeconds = 120;
                        s.StartupRuns = 1;
                        s.HistoryIncidents = 5_000;
                        s.HistoryNewestRepeats = 20;
                        s.HistoryUiRepeats = 2;
                        s.ApprovalIncidents = 5;
                        s.GraphReads = 10;
                        break;
                    default: throw new ArgumentException($"unknown argument '{args[i]}'");
                }
            }
            if (!File.Exists(s.HostDll))
            {
                throw new ArgumentException($"host not built: {s.HostDll} (scripts/bench builds it)");
            }
            return s;
        }
    }
}
