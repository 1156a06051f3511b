using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Remediation.ClusterSimulator;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Remediation.Tests.Reliability;
using Xunit.Abstractions;

namespace Remediation.Tests.Security;

/// <summary>A forged alert for a protected namespace is refused without touching Kubernetes; no secret reaches the logs.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ForgedAlertAndLogScanTests(AzuriteFixture storage, ITestOutputHelper output)
{
    private const string ActingPolicy = """
        allow:
          namespaces: [shop]
        limits:
          cooldown: 0s
        rules:
          - name: restart-everything
            when:
              classes: [CrashLoop, BadRollout, Healthy, Unknown, NotFound]
            action: restart
        """;

    [Theory]
    [InlineData("kube-system", "coredns")]
    [InlineData("remediation", "remediation-host")]
    [InlineData("payments", "checkout")]
    public async Task Forged_alert_for_a_non_allowlisted_namespace_is_refused_recorded_and_makes_no_kubernetes_call(string ns, string workload)
    {
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await cluster.ReconcileAsync();
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, cluster.BaseAddress, ActingPolicy);
        cluster.ClearRequests();
        using var response = await host.Client.PostAsync("api/alerts/alertmanager",
            new StringContent(ReliabilitySupport.AlertmanagerBody(ns, workload, "forged-" + ns), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("incidents")[0].GetString()!;
        var incident = await host.WaitForStateAsync(id, TimeSpan.FromSeconds(30), IncidentState.Refused, IncidentState.Escalated, IncidentState.Succeeded, IncidentState.Failed, IncidentState.Verifying);
        await host.WaitForNoPendingWorkAsync(TimeSpan.FromSeconds(30), id);
        var rows = await ReliabilitySupport.RowsAsync(host.Store.Table, id);
        var line = $"forged alert for {ns}/{workload}: state {incident.State} ({incident.OutcomeReason}); Kubernetes calls {cluster.Requests.Count}; rows {string.Join(", ", rows.Select(r => IncidentRowKeys.KindOf(r.RowKey)))}";
        output.WriteLine(line);
        Console.WriteLine("SECURITY: " + line);
        Assert.Equal(IncidentState.Refused, incident.State);
        Assert.Contains(ns, incident.OutcomeReason, StringComparison.Ordinal);
        Assert.Empty(cluster.Requests);
        // Recorded on its summary row alone: a refusal takes no intent (nothing is locked for acting) and adds no rows.
        Assert.Equal([IncidentRowKeys.Summary], rows.Select(r => IncidentRowKeys.KindOf(r.RowKey)));
    }

    [Fact]
    public async Task No_configured_secret_appears_in_any_log_message_or_exception()
    {
        const string bearer = "logscan-bearer-5f0c2a9e";
        const string bearerNext = "logscan-bearer-next-77d1";
        const string user = "am-sender";
        const string password = "logscan-basic-pw-3b8e";
        const string hmac = "logscan-hmac-c19a44";
        const string promPassword = "logscan-prom-pw-e2d7";
        await using var azurite = await AzuriteProcess.StartNewAsync();
        var accountKey = azurite.ConnectionString.Split(';').Single(p => p.StartsWith("AccountKey=", StringComparison.Ordinal))["AccountKey=".Length..];
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        var sink = new RecordingLoggerProvider();
        await using var host = await HostHarness.StartAsync(azurite.ConnectionString, cluster.BaseAddress, ActingPolicy,
            settings: new Dictionary<string, string?>
            {
                ["Remediation:Auth:BearerTokens:0"] = bearer,
                ["Remediation:Auth:BearerTokens:1"] = bearerNext,
                ["Remediation:Auth:BasicUsername"] = user,
                ["Remediation:Auth:BasicPasswords:0"] = password,
                ["Remediation:Auth:HmacSecrets:0"] = hmac,
                ["Remediation:Prometheus:Url"] = cluster.BaseAddress.ToString(),
                ["Remediation:Prometheus:Auth"] = "basic",
                ["Remediation:Prometheus:Username"] = "prom",
                ["Remediation:Prometheus:Password"] = promPassword,
                ["Logging:LogLevel:Default"] = "Trace",
            },
            configureServices: services => services.AddSingleton<ILoggerProvider>(sink));
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        var payload = ReliabilitySupport.AlertmanagerBody("shop", "checkout", "logscan-1");
        var credentials = new[]
        {
            "Bearer " + bearer, "Bearer " + bearerNext, "Basic " + B64($"{user}:{password}"),
            // Failures, several of which carry a real secret in the wrong place.
            "Bearer " + password, "Bearer " + hmac, "Basic " + B64($"{user}:{bearer}"), "Basic " + B64($"{bearer}:{password}x"),
            "Token " + bearer, bearer, "Bearer " + bearer + "x", "Basic " + B64(password), null,
        };
        var statuses = new List<int>();
        foreach (var credential in credentials)
        {
            statuses.Add(await PostAsync(client, "api/alerts/alertmanager", payload, credential));
        }
        // HMAC: a good one, a bad one, a replay.
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var signature = "sha256=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(hmac), Encoding.UTF8.GetBytes(ts + "." + payload)));
        statuses.Add(await PostAsync(client, "api/alerts/alertmanager", payload, null, ts, signature));
        statuses.Add(await PostAsync(client, "api/alerts/alertmanager", payload, null, ts, signature));
        statuses.Add(await PostAsync(client, "api/alerts/alertmanager", payload, null, ts, "sha256=" + new string('0', 64)));
        // Bad payloads and a storage outage, so exception paths log too.
        statuses.Add(await PostAsync(client, "api/alerts/azuremonitor", "{\"schemaId\":" + bearer, "Bearer " + bearer));
        await Task.Delay(2000);
        await azurite.StopAsync();
        statuses.Add(await PostAsync(client, "api/alerts/alertmanager", ReliabilitySupport.AlertmanagerBody("shop", "checkout", "logscan-2"), "Bearer " + bearer));
        statuses.Add(await PostAsync(client, "api/remediations", null, "Bearer " + bearer));
        await Task.Delay(1500);
        await azurite.StartAsync();
        statuses.Add(await PostAsync(client, "api/alerts/alertmanager", ReliabilitySupport.AlertmanagerBody("shop", "checkout", "logscan-2"), "Bearer " + bearer));
        await Task.Delay(1500);

        var secrets = new[] { bearer, bearerNext, password, hmac, promPassword, accountKey };
        var entries = sink.Entries.ToList();
        var leaks = entries.Where(e => secrets.Any(s => e.Contains(s, StringComparison.Ordinal))).ToList();
        var line = $"log scan: {entries.Count} log entries (Trace level, with exceptions and state) over {statuses.Count} requests " +
            $"({statuses.Count(s => s is >= 200 and < 300)} accepted, {statuses.Count(s => s == 401)} refused 401, {statuses.Count(s => s == 400)} 400, {statuses.Count(s => s == 503)} 503); " +
            $"{secrets.Length} configured secrets searched; leaks {leaks.Count}";
        output.WriteLine(line);
        Console.WriteLine("SECURITY: " + line);
        Assert.True(leaks.Count == 0, "secret in log: " + string.Join("\n", leaks.Take(3)));
        Assert.Contains(401, statuses);
        Assert.Contains(503, statuses);
        Assert.Contains(202, statuses);
        Assert.True(entries.Count > 20);
    }

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static async Task<int> PostAsync(HttpClient client, string route, string? body, string? authorization, string? timestamp = null, string? signature = null)
    {
        using var request = new HttpRequestMessage(body is null ? HttpMethod.Get : HttpMethod.Post, route);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Remediation-Timestamp", timestamp);
            request.Headers.TryAddWithoutValidation("X-Remediation-Signature", signature);
        }
        using var response = await client.SendAsync(request);
        return (int)response.StatusCode;
    }
}

/// <summary>Records every log entry as text: category, formatted message, structured state, scopes and the full exception.</summary>
public sealed class RecordingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<string> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IEnumerable<string> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
        // Nothing to release: entries stay readable after the host stops.
    }

    private sealed class Logger(RecordingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = new StringBuilder().Append(logLevel).Append(' ').Append(category).Append(": ").Append(formatter(state, exception));
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    text.Append(" | ").Append(key).Append('=').Append(value);
                }
            }
            provider._scopes.ForEachScope((scope, sb) => sb.Append(" | scope ").Append(scope), text);
            if (exception is not null)
            {
                text.Append(" | ").Append(exception);
            }
            provider._entries.Enqueue(text.ToString());
        }
    }
}
