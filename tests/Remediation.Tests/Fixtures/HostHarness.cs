using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Host;
using Remediation.Storage;

namespace Remediation.Tests.Fixtures;

/// <summary>The standalone host, in-process on a free loopback port, against a given storage and cluster.</summary>
public sealed class HostHarness : IAsyncDisposable
{
    public const string Token = "test-token-7f3a9c";

    private HostHarness(WebApplication app, Uri baseAddress, string policyPath)
    {
        App = app;
        BaseAddress = baseAddress;
        PolicyPath = policyPath;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
    }

    public WebApplication App { get; }
    public Uri BaseAddress { get; }
    public HttpClient Client { get; }
    public string PolicyPath { get; }
    public IServiceProvider Services => App.Services;
    public IncidentStore Store => Services.GetRequiredService<IncidentStore>();
    public WorkQueue Queue => Services.GetRequiredService<WorkQueue>();

    public const string DefaultPolicy = """
        allow:
          namespaces: [shop]
        limits:
          cooldown: 1m
          maxActionsPerWindow: 3
          window: 1h
        rules:
          - name: restart-crashloop
            when:
              classes: [CrashLoop]
            action: restart
          - name: rollback-bad-rollout
            when:
              classes: [BadRollout]
            action: rollback
        """;

    /// <summary>Starts a host. <paramref name="kubernetesServer"/> is the API server URL (the simulator).</summary>
    public static async Task<HostHarness> StartAsync(
        string storageConnectionString,
        Uri? kubernetesServer,
        string? policy = null,
        IDictionary<string, string?>? settings = null,
        bool worker = true,
        string? tablePrefix = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var port = FreePort.Next();
        var unique = tablePrefix ?? "t" + Guid.NewGuid().ToString("N")[..12];
        var policyPath = Path.Combine(Path.GetTempPath(), $"policy-{unique}.yaml");
        await File.WriteAllTextAsync(policyPath, policy ?? DefaultPolicy).ConfigureAwait(false);
        var config = new Dictionary<string, string?>
        {
            ["Remediation:Storage:ConnectionString"] = storageConnectionString,
            ["Remediation:Storage:IncidentsTable"] = unique,
            ["Remediation:Storage:WorkQueue"] = "work-" + unique,
            ["Remediation:Kubernetes:ServerUrl"] = (kubernetesServer ?? new Uri("http://127.0.0.1:1")).ToString(),
            ["Remediation:PolicyPath"] = policyPath,
            ["Remediation:Auth:BearerTokens:0"] = Token,
            ["Remediation:Host:Worker"] = worker ? "true" : "false",
            ["Remediation:Host:SweepInterval"] = "00:00:00.500",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        if (settings is not null)
        {
            foreach (var (key, value) in settings)
            {
                config[key] = value;
            }
        }
        var app = StandaloneHost.Build(["--urls", $"http://127.0.0.1:{port}"], config, configureServices);
        await app.StartAsync().ConfigureAwait(false);
        return new HostHarness(app, new Uri($"http://127.0.0.1:{port}/"), policyPath);
    }

    /// <summary>Posts a payload file (tests/Remediation.Tests/Payloads) to the Alertmanager webhook; returns the first incident id.</summary>
    public async Task<string> PostAlertmanagerAsync(string payloadFile)
    {
        var payload = await File.ReadAllTextAsync(RepoPaths.Payload(payloadFile)).ConfigureAwait(false);
        using var response = await Client.PostAsync("api/alerts/alertmanager", new StringContent(payload, System.Text.Encoding.UTF8, "application/json")).ConfigureAwait(false);
        Xunit.Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync().ConfigureAwait(false));
        return body.RootElement.GetProperty("incidents")[0].GetString()!;
    }

    /// <summary>Waits until the incident reaches one of the states, or fails with its last state.</summary>
    public async Task<IncidentRecord> WaitForStateAsync(string incidentId, TimeSpan timeout, params IncidentState[] states)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        IncidentRecord? last = null;
        while (clock.Elapsed < timeout)
        {
            last = await Store.GetAsync(incidentId).ConfigureAwait(false);
            if (last is not null && states.Contains(last.State))
            {
                return last;
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
        throw new TimeoutException($"incident {incidentId} did not reach [{string.Join(",", states)}]; last state {last?.State.ToString() ?? "(none)"}: {last?.OutcomeReason}");
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync().ConfigureAwait(false);
        await App.DisposeAsync().ConfigureAwait(false);
        File.Delete(PolicyPath);
    }
}
