using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Remediation.Alerts;
using Remediation.ClusterSimulator;
using Remediation.Policy;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Xunit.Abstractions;

namespace Remediation.Tests.Reliability;

/// <summary>
/// Crash: the real host runs as a separate process; the simulator holds its patch (latency), the process is killed
/// (SIGKILL) once the intent row exists, then restarted → the incident is resumed (sweep after the action lease) and
/// reaches Verifying or a terminal state with exactly one applied patch.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CrashRecoveryTests(AzuriteFixture storage, ITestOutputHelper output)
{
    private const string Policy = """
        allow:
          namespaces: [shop]
        rules:
          - name: restart-crashing
            when:
              classes: [CrashLoop, BadRollout]
            action: restart
        """;

    [Fact]
    public async Task Host_killed_between_intent_and_outcome_resumes_on_restart_and_never_acts_twice()
    {
        var dll = FindHostDll();
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await cluster.ReconcileAsync();
        var hold = new FaultRule { Verb = "patch", Resource = "deployments", Latency = TimeSpan.FromSeconds(8), StatusCode = null, MaxCount = 1 };
        cluster.Faults.Add(hold);
        var unique = "crash" + Guid.NewGuid().ToString("N")[..10];
        var policyPath = Path.Combine(Path.GetTempPath(), $"policy-{unique}.yaml");
        await File.WriteAllTextAsync(policyPath, Policy);
        var port = FreePort.Next();
        var env = HostEnvironment(cluster, unique, policyPath);
        var table = new TableClient(storage.ConnectionString, unique);
        var store = new IncidentStore(table);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", HostHarness.Token);
        var clock = Stopwatch.StartNew();

        var first = await StartHostAsync(dll, port, env);
        string incidentId;
        try
        {
            incidentId = await PostCrashLoopingAsync(client);
            await WaitAsync(async () => await store.GetStepAsync(incidentId, IncidentStepRecord.Intent) is not null, TimeSpan.FromSeconds(30), "intent row");
            // Kill in between intent and outcome: once the patch has reached the simulator, which holds it for 8 s.
            await WaitAsync(() => Task.FromResult(hold.FiredCount == 1), TimeSpan.FromSeconds(30), "the held patch");
        }
        finally
        {
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();
            first.Dispose();
        }
        var killedAt = clock.Elapsed;
        var afterKill = await store.GetAsync(incidentId);
        Assert.NotNull(afterKill);
        Assert.Null(await store.GetStepAsync(incidentId, IncidentStepRecord.OutcomeKey));
        Assert.Equal(0, ReliabilitySupport.AppliedMutations(cluster).GetValueOrDefault("checkout"));

        var second = await StartHostAsync(dll, port, env);
        IncidentRecord? final = null;
        try
        {
            await WaitAsync(async () =>
            {
                final = await store.GetAsync(incidentId);
                return final is not null && (final.State == IncidentState.Verifying || IncidentLifecycle.IsTerminal(final.State));
            }, TimeSpan.FromSeconds(60), "resumed outcome");
            // The killed host's work item reappears after its visibility timeout: wait until it too has been processed.
            await Quiescence.WaitForNoPendingWorkAsync(new Azure.Storage.Queues.QueueClient(storage.ConnectionString, "work-" + unique),
                () => Quiescence.LoadAsync(store, [incidentId]), TimeSpan.FromSeconds(60));
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
            second.Dispose();
        }
        var rows = await ReliabilitySupport.RowsAsync(table, incidentId);
        var applied = ReliabilitySupport.AppliedMutations(cluster).GetValueOrDefault("checkout");
        var attempts = cluster.Requests.Count(r => r.Verb == "patch");
        ReliabilitySupport.Report(output,
            $"crash: host killed (SIGKILL) {killedAt.TotalSeconds:0.0}s in, state then {afterKill.State} with intent and no outcome; after restart {final!.State} " +
            $"in {(clock.Elapsed - killedAt).TotalSeconds:0.0}s ({final.OutcomeReason}); patch attempts {attempts}, applied {applied}, " +
            $"intent rows {rows.Count(r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.Intent)}, outcome rows {rows.Count(r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.OutcomeKey)}");
        Assert.Equal(1, applied);
        Assert.Single(rows, r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.Intent);
        Assert.Single(rows, r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.OutcomeKey);
        Assert.Contains("resumed", final.OutcomeReason, StringComparison.Ordinal);
        File.Delete(policyPath);
    }

    /// <summary>
    /// The simulator commits the rollback PATCH and holds its reply; the host is killed while it waits. The restarted host
    /// resumes, its re-sent PATCH fails the resourceVersion test (422), the Deployment is compared with what the plan
    /// wrote, and the remediation goes on to verification: Succeeded, one applied patch, the circuit breaker at 0.
    /// </summary>
    [Fact]
    public async Task Host_killed_after_an_applied_patch_before_its_reply_recognises_the_applied_rollback()
    {
        var dll = FindHostDll();
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await cluster.ReconcileAsync();
        var before = cluster.GetObject("deployments", "shop", "checkout")!["spec"]!["template"]!.ToJsonString();
        cluster.Faults.Add(new FaultRule { Verb = "patch", Resource = "deployments", Name = "checkout", AfterApply = true, Latency = TimeSpan.FromMinutes(2), StatusCode = null, MaxCount = 1 });
        var unique = "held" + Guid.NewGuid().ToString("N")[..10];
        var policyPath = Path.Combine(Path.GetTempPath(), $"policy-{unique}.yaml");
        await File.WriteAllTextAsync(policyPath, Verification.ScheduledVerificationTests.Policy);
        var port = FreePort.Next();
        var env = HostEnvironment(cluster, unique, policyPath);
        var table = new TableClient(storage.ConnectionString, unique);
        var store = new IncidentStore(table);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", HostHarness.Token);

        var first = await StartHostAsync(dll, port, env);
        string incidentId;
        try
        {
            incidentId = await PostCrashLoopingAsync(client);
            // The rollback is in the cluster's store while its reply is still held: kill the host now.
            await WaitAsync(() => Task.FromResult(cluster.GetObject("deployments", "shop", "checkout")!["spec"]!["template"]!.ToJsonString() != before),
                TimeSpan.FromSeconds(30), "the committed rollback");
        }
        finally
        {
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();
            first.Dispose();
        }
        Assert.Null(await store.GetStepAsync(incidentId, IncidentStepRecord.OutcomeKey));

        var second = await StartHostAsync(dll, port, env);
        IncidentRecord? final = null;
        try
        {
            await WaitAsync(async () =>
            {
                final = await store.GetAsync(incidentId);
                return final is not null && IncidentLifecycle.IsTerminal(final.State);
            }, TimeSpan.FromSeconds(90), "the verified outcome");
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
            second.Dispose();
        }
        var patches = cluster.Requests.Where(r => r.Verb == "patch" && r.Name == "checkout").ToList();
        var ledger = await new TargetLedger(new TableTargetLedgerStore(store.Table), TimeProvider.System).GetAsync(new WorkloadTarget("shop", "checkout"));
        ReliabilitySupport.Report(output,
            $"held reply: host killed after the rollback was committed; after restart {final!.State} ({final.OutcomeReason}); " +
            $"patch answers {string.Join(",", patches.Select(p => p.StatusCode))}, breaker failures {ledger.ConsecutiveFailures}");
        Assert.Equal(IncidentState.Succeeded, final.State);
        // The held PATCH is recorded only when its reply is released (after the test): every recorded one is the resumed
        // attempt, which the API refused (the rollback is applied exactly once).
        Assert.Single(patches);
        Assert.Equal(422, patches[0].StatusCode);
        Assert.Equal(0, ledger.ConsecutiveFailures);
        File.Delete(policyPath);
    }

    /// <summary>Posts the real-format KubePodCrashLooping payload; returns its incident id.</summary>
    private static async Task<string> PostCrashLoopingAsync(HttpClient client)
    {
        var payload = await File.ReadAllTextAsync(RepoPaths.Payload("alertmanager/kube-pod-crashlooping.json"));
        using var response = await client.PostAsync("api/alerts/alertmanager", new StringContent(payload, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("incidents")[0].GetString()!;
    }

    /// <summary>The host's settings for a crash test: its own table and queue, short lease, re-queue and sweep intervals.</summary>
    private Dictionary<string, string> HostEnvironment(SimulatedCluster cluster, string unique, string policyPath) => new()
    {
        ["Remediation__Storage__ConnectionString"] = storage.ConnectionString,
        ["Remediation__Storage__IncidentsTable"] = unique,
        ["Remediation__Storage__WorkQueue"] = "work-" + unique,
        ["Remediation__Kubernetes__ServerUrl"] = cluster.BaseAddress.ToString(),
        ["Remediation__PolicyPath"] = policyPath,
        ["Remediation__Auth__BearerTokens__0"] = HostHarness.Token,
        ["Remediation__ActionLease"] = "00:00:02",
        ["Remediation__RequeueAfter"] = "00:00:02",
        ["Remediation__VerifyPollInterval"] = "00:00:01",
        ["Remediation__Host__SweepInterval"] = "00:00:00.500",
        ["Logging__LogLevel__Default"] = "Warning",
    };

    /// <summary>The host's build output: Debug or Release, whichever is newest.</summary>
    public static string FindHostDll()
    {
        var candidates = new[] { "Debug", "Release" }
            .Select(c => Path.Combine(RepoPaths.Root, "functions", "Remediation.Host", "bin", c, "net10.0", "remediation.dll"))
            .Where(File.Exists)
            .OrderByDescending(File.GetLastWriteTimeUtc)
            .ToList();
        return candidates.FirstOrDefault() ?? throw new InvalidOperationException("remediation.dll not built: run dotnet build functions/Remediation.Host");
    }

    private static async Task<Process> StartHostAsync(string dll, int port, IDictionary<string, string> env)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "serve", "--urls", $"http://127.0.0.1:{port}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in env)
        {
            start.Environment[key] = value;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the host");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await WaitAsync(async () =>
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"host exited with {process.ExitCode}");
            }
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
                return response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), "host start");
        return process;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await condition())
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"timed out waiting for {what}");
    }
}
