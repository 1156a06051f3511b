using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using CsCheck;
using Remediation.Alerts;
using Remediation.Tests.Fixtures;
using Xunit.Abstractions;

namespace Remediation.Tests.Security;

/// <summary>
/// Property-based fuzzing of every ingest parser, in-process: ≥ 100,000 mutated golden payloads per parser. Every
/// input is either accepted as alerts the rest of the pipeline can store, or rejected with an
/// <see cref="AlertParseException"/> naming a field and saying what is wrong — never any other exception.
/// </summary>
public sealed class ParserFuzzTests(ITestOutputHelper output)
{
    public const int Iterations = 100_000;

    [Fact]
    public void Alertmanager_parser_survives_100k_mutated_payloads() =>
        Fuzz("alertmanager", ["alertmanager/kube-pod-crashlooping.json", "alertmanager/resolved-and-watchdog.json", "alertmanager/istio-high-error-rate.json"],
            (body, _) => AlertmanagerNormalizer.Parse(body));

    [Fact]
    public void Azure_monitor_parser_survives_100k_mutated_payloads() =>
        Fuzz("azuremonitor",
            ["azuremonitor/metric-alert-fired.json", "azuremonitor/metric-alert-resolved.json", "azuremonitor/log-alert-v2-oomkilled.json",
             "azuremonitor/prometheus-alert-crashloop.json", "azuremonitor/activity-log-alert-cluster.json"],
            (body, _) => [AzureMonitorNormalizer.Parse(body)]);

    [Fact]
    public void Event_grid_and_cloud_events_parser_survives_100k_mutated_payloads() =>
        Fuzz("eventgrid",
            ["eventgrid/alert-eventgrid-schema.json", "eventgrid/alert-cloudevent.json", "eventgrid/alerts-cloudevents-batch.json",
             "eventgrid/subscription-validation.json", "eventgrid/unsupported-aks-event.json", "azuremonitor/prometheus-alert-crashloop.json"],
            (body, mutation) =>
            {
                // Media type chosen like a sender would (mostly right, sometimes wrong); a quarter as binary-mode CloudEvents.
                if (mutation.MediaType >= 7)
                {
                    var seed = mutation.Ops[0];
                    var headers = new CloudEventHeaders(
                        seed.A % 5 == 0 ? "0.3" : "1.0",
                        seed.B % 7 == 0 ? null : "id-" + seed.Seed,
                        seed.A % 11 == 0 ? "" : "/subscriptions/x/resourceGroups/rg",
                        seed.B % 3 == 0 ? "Other.Type" : "AzureMonitor.Alert.Fired",
                        seed.A % 4 == 0 ? "not-a-time" : seed.A % 4 == 1 ? null : "2026-11-26T04:10:06Z",
                        null,
                        PayloadMutator.MediaTypes[seed.B % PayloadMutator.MediaTypes.Length]);
                    return EventGridNormalizer.ParseBinary(body, headers).Alerts;
                }
                var mediaType = mutation.MediaType < 4 ? null : PayloadMutator.MediaTypes[mutation.MediaType % PayloadMutator.MediaTypes.Length];
                return EventGridNormalizer.Parse(body, mediaType).Alerts;
            });

    private void Fuzz(string name, string[] goldenFiles, Func<byte[], Mutation, IReadOnlyList<NormalizedAlert>> parse)
    {
        var goldens = goldenFiles.Select(f => File.ReadAllBytes(RepoPaths.Payload(f))).ToArray();
        long accepted = 0, rejected = 0, alerts = 0, maxDetail = 0;
        var unhandled = new ConcurrentQueue<string>();
        var fields = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();

        try
        {
        PayloadMutator.Gen(goldens.Length).Sample(mutation =>
        {
            var body = PayloadMutator.Apply(goldens[mutation.Golden], mutation);
            try
            {
                var result = parse(body, mutation);
                foreach (var alert in result)
                {
                    // What ingest does next with an accepted alert must work too: the incident key and the stored JSON.
                    Assert.False(string.IsNullOrEmpty(alert.Name), "accepted alert without a name");
                    Assert.False(string.IsNullOrEmpty(alert.Fingerprint), "accepted alert without a fingerprint");
                    Assert.Equal(32, alert.IncidentId.Length);
                    _ = JsonSerializer.Serialize(alert, AlertJsonContext.Default.NormalizedAlert);
                }
                Interlocked.Increment(ref accepted);
                Interlocked.Add(ref alerts, result.Count);
            }
            catch (AlertParseException ex)
            {
                Interlocked.Increment(ref rejected);
                Assert.False(string.IsNullOrWhiteSpace(ex.Field), $"rejection without a field: {ex.Message}");
                Assert.False(string.IsNullOrWhiteSpace(ex.Message), "rejection without a message");
                fields.AddOrUpdate(FieldFamily(ex.Field), 1, (_, n) => n + 1);
                InterlockedMax(ref maxDetail, ex.Message.Length);
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                unhandled.Enqueue($"{ex.GetType().Name}: {ex.Message} ({mutation}) body: {PayloadMutator.Preview(body)}");
                throw;
            }
        }, iter: Iterations, print: m => $"{m} → {PayloadMutator.Preview(PayloadMutator.Apply(goldens[m.Golden], m))}");
        }
        catch (CsCheckException)
        {
            foreach (var failure in unhandled.Take(5))
            {
                output.WriteLine("unhandled: " + failure);
                Console.WriteLine($"SECURITY: fuzz {name} unhandled: {failure}");
            }
            throw;
        }

        var line = $"fuzz {name}: {Iterations} mutated payloads in {clock.Elapsed.TotalSeconds:0.0}s; accepted {accepted} ({alerts} alerts), " +
            $"rejected {rejected} with AlertParseException, unhandled {unhandled.Count}, longest detail {maxDetail} chars; " +
            $"top rejected fields: {string.Join(", ", fields.OrderByDescending(f => f.Value).Take(6).Select(f => $"{f.Key}={f.Value}"))}";
        output.WriteLine(line);
        Console.WriteLine("SECURITY: " + line);
        Assert.Empty(unhandled);
        Assert.Equal(Iterations, accepted + rejected);
        Assert.True(rejected > Iterations / 10, "the mutations should make most payloads invalid");
        // A problem+json detail never echoes a payload back at length.
        Assert.True(maxDetail <= AlertParseException.MaxMessageLength, $"a detail of {maxDetail} characters");
    }

    private static string FieldFamily(string field) => System.Text.RegularExpressions.Regex.Replace(field, @"\[\d+\]", "[]");

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while (value > (current = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
            // Lost the race to another thread; read again.
        }
    }
}
