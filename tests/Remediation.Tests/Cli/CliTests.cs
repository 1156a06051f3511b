using System.Text;
using System.Text.Json;
using Remediation.ClusterSimulator;
using Remediation.Host;
using Remediation.Policy;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Cli;

/// <summary>The `remediation` CLI in-process (Cli.RunAsync), against the cluster simulator and real Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class CliTests(AzuriteFixture storage) : IDisposable
{
    private static readonly string ExamplePolicy = Path.Combine(RepoPaths.Root, "examples", "policy.yaml");
    private static readonly string CrashLoopingPayload = RepoPaths.Payload("alertmanager/kube-pod-crashlooping.json");
    private readonly string _work = Directory.CreateTempSubdirectory("cli-").FullName;

    private sealed record CliResult(int ExitCode, string Out, string Err);

    private static async Task<CliResult> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await Remediation.Host.Cli.RunAsync(args, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    private static async Task<SimulatedCluster> BadRolloutClusterAsync()
    {
        var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await cluster.ReconcileAsync();
        cluster.ClearRequests();
        return cluster;
    }

    private string WriteFile(string name, string text)
    {
        var path = Path.Combine(_work, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task Plan_on_bad_rollout_prints_the_rollback_with_its_evidence_and_leaves_the_cluster_unchanged()
    {
        await using var cluster = await BadRolloutClusterAsync();
        var before = cluster.Snapshot();

        var result = await RunAsync("plan", CrashLoopingPayload, "--kubernetes-server", cluster.BaseAddress.ToString(), "--policy", ExamplePolicy);

        Assert.True(result.ExitCode == 0, result.Err + result.Out);
        Assert.Contains("alert      KubePodCrashLooping", result.Out, StringComparison.Ordinal);
        Assert.Contains("target     shop/checkout", result.Out, StringComparison.Ordinal);
        Assert.Contains("diagnosis  BadRollout", result.Out, StringComparison.Ordinal);
        Assert.Contains("  evidence [", result.Out, StringComparison.Ordinal);
        Assert.Contains("decision   Act (rule 'roll-back-bad-rollouts')", result.Out, StringComparison.Ordinal);
        Assert.Contains("action     rollback: ", result.Out, StringComparison.Ordinal);
        Assert.Contains("  mutation PatchDeployment shop/checkout", result.Out, StringComparison.Ordinal);
        Assert.Contains("registry.example/checkout:1.5.0", result.Out, StringComparison.Ordinal); // the prior (failing) template
        Assert.Contains("no storage configured", result.Out, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", result.Out, StringComparison.Ordinal);

        Assert.Equal(before, cluster.Snapshot());
        Assert.NotEmpty(cluster.Requests);
        Assert.DoesNotContain(cluster.Requests, r => r.IsMutating);
    }

    [Fact]
    public async Task Plan_with_storage_respects_the_recorded_cooldown_and_writes_no_incident()
    {
        await using var cluster = await BadRolloutClusterAsync();
        var table = "cli" + Guid.NewGuid().ToString("N")[..12];
        var store = new IncidentStore(new Azure.Data.Tables.TableServiceClient(storage.ConnectionString).GetTableClient(table));

        var fresh = await RunAsync("plan", CrashLoopingPayload, "--kubernetes-server", cluster.BaseAddress.ToString(), "--policy", ExamplePolicy,
            "--storage", storage.ConnectionString, "--table", table);
        Assert.True(fresh.ExitCode == 0, fresh.Err + fresh.Out);
        Assert.Contains("action     rollback: ", fresh.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("no storage configured", fresh.Out, StringComparison.Ordinal);
        Assert.Empty(await store.ListAsync(new IncidentQuery()));

        // A remediation of the same workload a minute ago: the policy's 10m cooldown refuses the next one.
        var ledger = new TargetLedger(new TableTargetLedgerStore(store.Table), TimeProvider.System);
        var limits = PolicyLoader.LoadFile(ExamplePolicy).Limits;
        var (verdict, _) = await ledger.TryReserveAsync(new Remediation.Alerts.WorkloadTarget("shop", "checkout"), "earlier-incident", limits);
        Assert.Equal(GateVerdict.Allowed, verdict);

        var cooling = await RunAsync("plan", CrashLoopingPayload, "--kubernetes-server", cluster.BaseAddress.ToString(), "--policy", ExamplePolicy,
            "--storage", storage.ConnectionString, "--table", table);
        Assert.True(cooling.ExitCode == 0, cooling.Err + cooling.Out);
        Assert.Contains("decision   Refuse (rule 'roll-back-bad-rollouts'): cooldown", cooling.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("action     rollback", cooling.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(cluster.Requests, r => r.IsMutating);
    }

    [Fact]
    public async Task Plan_without_policy_refuses_by_default_deny_and_reads_nothing_from_the_cluster()
    {
        await using var cluster = await BadRolloutClusterAsync();
        var result = await RunAsync("plan", CrashLoopingPayload, "--kubernetes-server", cluster.BaseAddress.ToString());
        Assert.True(result.ExitCode == 0, result.Err + result.Out);
        Assert.Contains("no policy configured", result.Out, StringComparison.Ordinal);
        Assert.Contains("decision   Refuse", result.Out, StringComparison.Ordinal);
        Assert.Empty(cluster.Requests);
    }

    [Fact]
    public async Task Plan_bad_input_exits_2_with_a_message_naming_the_problem()
    {
        var missing = await RunAsync("plan", Path.Combine(_work, "nope.json"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("alert file not found", missing.Err, StringComparison.Ordinal);

        var noLabels = WriteFile("no-labels.json", """{"version":"4","status":"firing","alerts":[{"status":"firing","startsAt":"2026-11-26T03:10:41Z"}]}""");
        var malformed = await RunAsync("plan", noLabels, "--kubernetes-server", "http://127.0.0.1:1");
        Assert.Equal(2, malformed.ExitCode);
        Assert.Contains("$.alerts[0].labels", malformed.Err, StringComparison.Ordinal);
        Assert.Empty(malformed.Out);

        var notJson = WriteFile("broken.json", """{"version":"4","alerts":[{"labels": }""");
        var broken = await RunAsync("plan", notJson);
        Assert.Equal(2, broken.ExitCode);
        Assert.Contains("malformed JSON", broken.Err, StringComparison.Ordinal);

        var empty = WriteFile("empty.json", "");
        Assert.Equal(2, (await RunAsync("plan", empty)).ExitCode);

        var invalidPolicy = WriteFile("bad-policy.yaml", "allow:\n  namespaces: [shop]\nrules:\n  - name: x\n    action: reboot-the-world\n");
        var badPolicy = await RunAsync("plan", CrashLoopingPayload, "--kubernetes-server", "http://127.0.0.1:1", "--policy", invalidPolicy);
        Assert.Equal(2, badPolicy.ExitCode);
        Assert.Contains("invalid policy", badPolicy.Err, StringComparison.Ordinal);

        var missingPolicy = await RunAsync("plan", CrashLoopingPayload, "--policy", Path.Combine(_work, "missing.yaml"));
        Assert.Equal(2, missingPolicy.ExitCode);
        Assert.Contains("policy file not found", missingPolicy.Err, StringComparison.Ordinal);

        var noArgument = await RunAsync("plan");
        Assert.Equal(2, noArgument.ExitCode);
        Assert.Contains("Run 'remediation --help'", noArgument.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_against_an_unreachable_cluster_fails_with_exit_1()
    {
        var server = $"http://127.0.0.1:{FreePort.Next()}";
        var result = await RunAsync("plan", CrashLoopingPayload, "--kubernetes-server", server, "--policy", ExamplePolicy);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"error: the Kubernetes API server at {server} is unreachable", result.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("action     rollback", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_reports_per_alert_what_would_have_been_done_with_progress_and_changes_nothing()
    {
        await using var cluster = await BadRolloutClusterAsync();
        var before = cluster.Snapshot();
        var crashLooping = await File.ReadAllTextAsync(CrashLoopingPayload);
        WriteFile("replay/01-crashlooping.json", crashLooping);
        WriteFile("replay/02-crashlooping-again.json", crashLooping);
        WriteFile("replay/03-resolved.json", await File.ReadAllTextAsync(RepoPaths.Payload("alertmanager/resolved-and-watchdog.json")));
        WriteFile("replay/notes.txt", "not a payload");

        var result = await RunAsync("replay", Path.Combine(_work, "replay"), "--kubernetes-server", cluster.BaseAddress.ToString(), "--policy", ExamplePolicy);

        Assert.True(result.ExitCode == 0, result.Err + result.Out);
        Assert.Contains("01-crashlooping.json#0 KubePodCrashLooping firing shop/checkout", result.Out, StringComparison.Ordinal);
        Assert.Contains("  diagnosis BadRollout", result.Out, StringComparison.Ordinal);
        Assert.Contains("  → rollback: ", result.Out, StringComparison.Ordinal);
        Assert.Contains("02-crashlooping-again.json#0", result.Out, StringComparison.Ordinal);
        Assert.Contains("  → duplicate: incident", result.Out, StringComparison.Ordinal);
        Assert.Contains("03-resolved.json#0 KubePodCrashLooping resolved", result.Out, StringComparison.Ordinal);
        Assert.Contains("  → resolution of incident", result.Out, StringComparison.Ordinal);
        Assert.Contains("03-resolved.json#1 Watchdog resolved (no target)", result.Out, StringComparison.Ordinal);
        Assert.Contains("  → NoAction: resolved notification", result.Out, StringComparison.Ordinal);
        Assert.Contains("replayed 4 alerts from 3 files (dry run: nothing applied)", result.Out, StringComparison.Ordinal);
        Assert.Contains("would rollback 1", result.Out, StringComparison.Ordinal);
        Assert.True(result.Out.Contains("duplicate 1, resolved 1, would rollback 1", StringComparison.Ordinal), result.Out);
        Assert.Contains("] 4/4 ", result.Err, StringComparison.Ordinal);
        Assert.Contains("[###", result.Err, StringComparison.Ordinal);

        Assert.Equal(before, cluster.Snapshot());
        Assert.DoesNotContain(cluster.Requests, r => r.IsMutating);
    }

    [Fact]
    public async Task Replay_replays_the_valid_files_lists_the_invalid_ones_and_fails_only_when_strict()
    {
        await using var cluster = await BadRolloutClusterAsync();
        var dir = Path.Combine(_work, "mixed");
        for (var i = 0; i < 10; i++)
        {
            // No Kubernetes labels: Ignored under the example policy (unmappedAlerts defaults to ignore).
            WriteFile($"mixed/{i:00}-host.json", $$"""{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"HostHighCpuLoad","instance":"10.0.0.{{i}}:9100"},"startsAt":"2026-11-26T03:10:41Z"}]}""");
        }
        for (var i = 10; i < 15; i++)
        {
            // A namespace outside the allowlist: Refused before anything is read.
            WriteFile($"mixed/{i:00}-other.json", $$"""{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"KubeDeploymentReplicasMismatch","namespace":"other","deployment":"api-{{i}}"},"startsAt":"2026-11-26T03:10:41Z"}]}""");
        }
        WriteFile("mixed/15-no-alertname.json", """{"version":"4","alerts":[{"status":"firing","labels":{"namespace":"shop"},"startsAt":"2026-11-26T03:10:41Z"}]}""");
        WriteFile("mixed/16-version-3.json", """{"version":"3","groupKey":42,"alerts":[]}""");
        WriteFile("mixed/17-truncated.json", """{"version":"4","alerts":[""");

        var result = await RunAsync("replay", dir, "--kubernetes-server", cluster.BaseAddress.ToString(), "--policy", ExamplePolicy);

        Assert.True(result.ExitCode == 0, result.Err + result.Out);
        Assert.Contains("replayed 15 alerts from 15 files (dry run: nothing applied): Ignored 10, Refused 5", result.Out, StringComparison.Ordinal);
        Assert.Contains("00-host.json#0 HostHighCpuLoad firing (no target)", result.Out, StringComparison.Ordinal);
        Assert.Contains("  → Ignored: the alert names no Kubernetes workload", result.Out, StringComparison.Ordinal);
        Assert.Contains("  → Refused: namespace 'other' is not in the policy allowlist", result.Out, StringComparison.Ordinal);
        Assert.Contains("skipped 3 of 18 files: not valid Alertmanager payloads", result.Out, StringComparison.Ordinal);
        Assert.Contains("3 of 18 files are not valid Alertmanager payloads:", result.Err, StringComparison.Ordinal);
        Assert.Contains("15-no-alertname.json: field '$.alerts[0].labels.alertname': required label 'alertname' is missing", result.Err, StringComparison.Ordinal);
        Assert.Contains("16-version-3.json: field '$.version': Alertmanager webhook payload version \"3\" is not supported; expected version \"4\"", result.Err, StringComparison.Ordinal);
        Assert.Contains("17-truncated.json: field '", result.Err, StringComparison.Ordinal);
        Assert.DoesNotContain(cluster.Requests, r => r.IsMutating);

        var strict = await RunAsync("replay", dir, "--strict", "--kubernetes-server", cluster.BaseAddress.ToString(), "--policy", ExamplePolicy);
        Assert.Equal(2, strict.ExitCode);
        Assert.Contains("replayed 15 alerts from 15 files", strict.Out, StringComparison.Ordinal);
        Assert.Contains("16-version-3.json: field '$.version'", strict.Err, StringComparison.Ordinal);
        Assert.Contains("--strict", strict.Err, StringComparison.Ordinal);

        WriteFile("valid-only/a.json", """{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"HostHighCpuLoad"},"startsAt":"2026-11-26T03:10:41Z"}]}""");
        Assert.Equal(0, (await RunAsync("replay", Path.Combine(_work, "valid-only"), "--strict", "--kubernetes-server", cluster.BaseAddress.ToString(), "--policy", ExamplePolicy)).ExitCode);

        WriteFile("all-invalid/a.json", """{"version":"3","alerts":[]}""");
        var none = await RunAsync("replay", Path.Combine(_work, "all-invalid"), "--kubernetes-server", cluster.BaseAddress.ToString(), "--policy", ExamplePolicy);
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("a.json: field '$.version'", none.Err, StringComparison.Ordinal);
        Assert.Contains("no valid Alertmanager payload to replay", none.Err, StringComparison.Ordinal);

        Assert.Equal(2, (await RunAsync("replay", Path.Combine(_work, "no-such-dir"))).ExitCode);
        Directory.CreateDirectory(Path.Combine(_work, "empty"));
        var empty = await RunAsync("replay", Path.Combine(_work, "empty"));
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("no *.json", empty.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task History_lists_a_real_remediation_with_filters_as_table_and_json()
    {
        await using var cluster = await BadRolloutClusterAsync();
        var table = "hist" + Guid.NewGuid().ToString("N")[..12];
        await using (var host = await HostHarness.StartAsync(storage.ConnectionString, cluster.BaseAddress, tablePrefix: table))
        {
            using var response = await host.Client.PostAsync("api/alerts/alertmanager", new StringContent(await File.ReadAllTextAsync(CrashLoopingPayload), Encoding.UTF8, "application/json"));
            var incidentId = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("incidents")[0].GetString()!;
            await host.WaitForStateAsync(incidentId, TimeSpan.FromSeconds(30), IncidentState.Verifying, IncidentState.Succeeded);
        }

        var tableOutput = await RunAsync("history", "--storage", storage.ConnectionString, "--table", table, "--namespace", "shop", "--since", "1h");
        Assert.True(tableOutput.ExitCode == 0, tableOutput.Err);
        var lines = tableOutput.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("RECEIVED (UTC)", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains("shop/checkout", StringComparison.Ordinal) && l.Contains("BadRollout", StringComparison.Ordinal)
            && l.Contains("rollback", StringComparison.Ordinal) && (l.Contains("Verifying", StringComparison.Ordinal) || l.Contains("Succeeded", StringComparison.Ordinal)));
        Assert.Equal("1 incident", lines[^1].Trim());

        var json = await RunAsync("history", "--storage", storage.ConnectionString, "--table", table, "--workload", "checkout", "--output", "json");
        Assert.True(json.ExitCode == 0, json.Err);
        var item = JsonDocument.Parse(Assert.Single(json.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries))).RootElement; // JSON lines
        Assert.Equal("rollback", item.GetProperty("action").GetString());
        Assert.Equal("BadRollout", item.GetProperty("diagnosis").GetString());
        Assert.Contains("1.5.0", item.GetProperty("priorState").ToString(), StringComparison.Ordinal);

        var none = await RunAsync("history", "--storage", storage.ConnectionString, "--table", table, "--outcome", "Failed", "-o", "json");
        Assert.Equal(0, none.ExitCode);
        Assert.Equal("", none.Out.Trim());
        var otherNamespace = await RunAsync("history", "--storage", storage.ConnectionString, "--table", table, "-n", "payments");
        Assert.Equal("0 incidents", otherNamespace.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim());
        var future = await RunAsync("history", "--storage", storage.ConnectionString, "--table", table, "--since", "2999-01-01T00:00:00Z", "-o", "json");
        Assert.Equal("", future.Out.Trim());
    }

    [Fact]
    public async Task History_bad_input_exits_2_and_unreachable_storage_exits_1()
    {
        var format = await RunAsync("history", "--storage", storage.ConnectionString, "--output", "xml");
        Assert.Equal(2, format.ExitCode);
        Assert.Contains("xml", format.Err, StringComparison.Ordinal);

        var since = await RunAsync("history", "--storage", storage.ConnectionString, "--since", "last tuesday");
        Assert.Equal(2, since.ExitCode);
        Assert.Contains("--since must be an RFC 3339 time", since.Err, StringComparison.Ordinal);

        var limit = await RunAsync("history", "--storage", storage.ConnectionString, "--limit", "0");
        Assert.Equal(2, limit.ExitCode);
        Assert.Contains("--limit", limit.Err, StringComparison.Ordinal);

        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("Remediation__Storage__ConnectionString")))
        {
            var noStorage = await RunAsync("history");
            Assert.Equal(2, noStorage.ExitCode);
            Assert.Contains("no storage configured", noStorage.Err, StringComparison.Ordinal);
        }

        var port = FreePort.Next();
        var down = await RunAsync("history", "--storage", $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;");
        Assert.Equal(1, down.ExitCode);
        Assert.Contains("error:", down.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Policy_validate_demo_and_unknown_commands_report_bad_input_with_exit_2()
    {
        var valid = await RunAsync("policy", "validate", ExamplePolicy);
        Assert.Equal(0, valid.ExitCode);
        Assert.Contains("policy.yaml: valid", valid.Out, StringComparison.Ordinal);

        var invalid = await RunAsync("policy", "validate", WriteFile("p.yaml", "allow:\n  namespaces: [kube-system]\nrules: []\nbogus: 1\n"));
        Assert.Equal(2, invalid.ExitCode);
        Assert.NotEmpty(invalid.Err);

        var demo = await RunAsync("demo", "--storage", "UseDevelopmentStorage=true", "--kubernetes-server", "http://127.0.0.1:1",
            "--payload", Path.Combine(_work, "missing.json"), "--policy", ExamplePolicy);
        Assert.Equal(2, demo.ExitCode);
        Assert.Contains("file not found", demo.Err, StringComparison.Ordinal);

        var unknown = await RunAsync("frobnicate");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("frobnicate", unknown.Err, StringComparison.Ordinal);

        var serve = await RunAsync("serve", "--urls");
        Assert.Equal(2, serve.ExitCode);
    }

    [Fact]
    public async Task Policy_validate_refuses_what_plan_would_refuse_and_names_the_line()
    {
        var weight = WriteFile("weight.yaml", """
            allow:
              namespaces: [shop]
            rules:
              - name: shift
                when:
                  classes: [DegradedVersion]
                action: traffic-shift
                params: { weight: "150" }
            """);
        var result = await RunAsync("policy", "validate", weight);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"{weight}:8: rule 'shift': parameter 'weight' must be an integer from 0 to 99 (the weight the degraded version keeps), not '150'", result.Err.Trim());
        Assert.Empty(result.Out);

        var tab = WriteFile("tab.yaml", "dryRun: false\nallow:\n  namespaces: [shop]\nlimits:\n  cooldown: 10m\nrules:\n  - name: r\n\taction: rollback\n");
        var tabbed = await RunAsync("policy", "validate", tab);
        Assert.Equal(2, tabbed.ExitCode);
        Assert.StartsWith($"{tab}:8: YAML syntax error", tabbed.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", tabbed.Err, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
