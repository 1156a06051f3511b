using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Http;
using Remediation.Storage;

namespace Remediation.Host;

/// <summary>
/// `remediation demo`: runs the standalone host against a given storage and cluster, posts a real-format
/// Alertmanager payload over HTTP (with auth), and prints what happened until the outcome is recorded.
/// </summary>
public static class DemoCommand
{
    public sealed record Settings(string Storage, string KubernetesServer, string Payload, string Policy, string Urls, TimeSpan Timeout, bool KeepRunning = false);

    public static async Task<int> RunAsync(Settings settings, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        // For the browser: the history page takes Basic credentials (a browser prompts for them on the 401). Random per
        // run, printed to this terminal only (never logged), valid while this demo's host runs.
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var app = BuildHost(settings, token, password);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex) when (Cli.IsAddressInUse(ex))
        {
            await app.DisposeAsync().ConfigureAwait(false);
            output.WriteLine($"error: {ex.Message.TrimEnd('.')}; pass --urls with a free port (e.g. --urls http://127.0.0.1:7072)");
            return 1;
        }
        try
        {
            using var client = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient();
            client.BaseAddress = new Uri(settings.Urls.TrimEnd('/') + "/");
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            output.WriteLine($"host       {settings.Urls} (standalone host; storage and cluster as configured; policy {settings.Policy})");
            var payload = await File.ReadAllTextAsync(settings.Payload, cancellationToken).ConfigureAwait(false);
            var clock = Stopwatch.StartNew();
            using var response = await client.PostAsync("api/alerts/alertmanager", new StringContent(payload, Encoding.UTF8, "application/json"), cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            output.WriteLine($"POST       /api/alerts/alertmanager ({Path.GetFileName(settings.Payload)}) → {(int)response.StatusCode} {body}");
            if (!response.IsSuccessStatusCode)
            {
                return 1;
            }
            var ids = JsonDocument.Parse(body).RootElement.GetProperty("incidents").EnumerateArray().Select(e => e.GetString()!).ToList();
            var failures = await PrintOutcomesAsync(client, ids, settings.Timeout, output, cancellationToken).ConfigureAwait(false);
            output.WriteLine();
            output.WriteLine($"done in {clock.Elapsed.TotalSeconds:F1}s; outcomes are rows in table '{"incidents"}' (GET /api/remediations)");
            var page = new Uri(client.BaseAddress!, "ui");
            if (settings.KeepRunning)
            {
                output.WriteLine($"history    {page} (browser: user {DemoUser}, password {password}; valid until this demo stops)");
                output.WriteLine("           the host keeps running; Ctrl+C to stop");
                await WaitForCancellationAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                output.WriteLine($"history    {page} is served while the host runs: run scripts/demo --keep-running (or remediation demo --keep-running) to keep it open in a browser");
            }
            return failures == 0 ? 0 : 1;
        }
        finally
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The standalone host with the demo's storage, cluster and policy, and this run's random credentials.</summary>
    private static WebApplication BuildHost(Settings settings, string token, string password) =>
        StandaloneHost.Build(["--urls", settings.Urls], new Dictionary<string, string?>
        {
            ["Remediation:Storage:ConnectionString"] = settings.Storage,
            ["Remediation:Kubernetes:ServerUrl"] = settings.KubernetesServer,
            ["Remediation:PolicyPath"] = settings.Policy,
            ["Remediation:Auth:BearerTokens:0"] = token,
            ["Remediation:Auth:BasicUsername"] = DemoUser,
            ["Remediation:Auth:BasicPasswords:0"] = password,
            ["Remediation:Host:SweepInterval"] = "00:00:01",
            ["Logging:LogLevel:Default"] = "Warning",
        });

    /// <summary>Waits for each incident's outcome and prints it; returns how many failed or recorded no outcome in time.</summary>
    private static async Task<int> PrintOutcomesAsync(HttpClient client, IReadOnlyList<string> ids, TimeSpan timeout, TextWriter output, CancellationToken cancellationToken)
    {
        var failures = 0;
        foreach (var id in ids)
        {
            var incident = await WaitForOutcomeAsync(client, id, timeout, cancellationToken).ConfigureAwait(false);
            output.WriteLine();
            if (incident is null)
            {
                output.WriteLine($"incident {id}: no recorded outcome within {timeout.TotalSeconds:F0}s");
                failures++;
                continue;
            }
            IncidentPrinter.Print(output, incident);
            if (incident.State is nameof(IncidentState.Failed))
            {
                failures++;
            }
        }
        return failures;
    }

    /// <summary>The Basic user of the demo's history page.</summary>
    public const string DemoUser = "demo";

    private static async Task WaitForCancellationAsync(CancellationToken cancellationToken)
    {
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = cancellationToken.Register(() => stopped.TrySetResult()).ConfigureAwait(false);
        await stopped.Task.ConfigureAwait(false);
    }

    private static async Task<IncidentView?> WaitForOutcomeAsync(HttpClient client, string incidentId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        IncidentView? last = null;
        while (clock.Elapsed < timeout)
        {
            last = null;
            string? next = "api/remediations?limit=1000";
            while (next is not null && last is null)
            {
                var page = await client.GetFromJsonAsync(next, WebJsonContext.Default.IncidentListResponse, cancellationToken).ConfigureAwait(false);
                last = page?.Incidents.FirstOrDefault(i => i.IncidentId == incidentId);
                next = page?.Continuation is { } token ? "api/remediations?limit=1000&continuation=" + token : null;
            }
            if (last is not null && IncidentLifecycle.TryParse(last.State, out var state) && IncidentLifecycle.IsTerminal(state))
            {
                return last;
            }
            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
        }
        return last;
    }
}
