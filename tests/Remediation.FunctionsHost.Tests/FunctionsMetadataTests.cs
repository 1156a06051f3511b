using System.Text.Json;
using System.Text.RegularExpressions;

namespace Remediation.FunctionsHost.Tests;

/// <summary>
/// The built functions.metadata (what the host indexes) against what README and Bicep promise: every function's trigger,
/// route, methods, auth level, queue and connection. The queue and schedule settings are read out of
/// local.settings.sample.json and checked to be set by infra/main.bicep, so neither side is hard-coded twice.
/// </summary>
public sealed class FunctionsMetadataTests
{
    private sealed record Expected(string Name, string Trigger, string? Route = null, string[]? Methods = null, string? AuthLevel = null,
        string? QueueSetting = null, string QueueSuffix = "", string? Connection = null, string? ScheduleSetting = null);

    private const string WorkQueueEnv = "Remediation__Storage__WorkQueue";
    private const string ScheduleEnv = "Remediation__VerifySchedule";

    // README "HTTP API" / sender set-up, host.json routePrefix "api" and function keys; queue and timer from the settings.
    private static readonly Expected[] Table =
    [
        new("AlertmanagerWebhook", "httpTrigger", "alerts/alertmanager", ["post"], "Function"),
        new("ApproveRemediation", "httpTrigger", "remediations/{id}/approve", ["post"], "Function"),
        new("RejectRemediation", "httpTrigger", "remediations/{id}/reject", ["post"], "Function"),
        new("AzureMonitorWebhook", "httpTrigger", "alerts/azuremonitor", ["post"], "Function"),
        new("EventGridWebhook", "httpTrigger", "alerts/eventgrid", ["post", "options"], "Function"),
        new("ListRemediations", "httpTrigger", "remediations", ["get"], "Function"),
        new("ProcessWorkItem", "queueTrigger", QueueSetting: WorkQueueEnv, Connection: "AzureWebJobsStorage"),
        new("RecordPoisonedWorkItem", "queueTrigger", QueueSetting: WorkQueueEnv, QueueSuffix: "-poison", Connection: "AzureWebJobsStorage"),
        new("VerifyRemediations", "timerTrigger", ScheduleSetting: ScheduleEnv),
    ];

    [Fact]
    public void EveryFunctionsTriggerMatchesTheTableAndTheSettings()
    {
        var path = Path.Combine(AppPaths.AppDirectory, "functions.metadata");
        Assert.True(File.Exists(path), $"{path} missing: build functions/Remediation.Functions first");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var functions = doc.RootElement.EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.Clone());
        Assert.Equal(Table.Select(e => e.Name).Order(StringComparer.Ordinal), functions.Keys.Order(StringComparer.Ordinal));

        var sample = AppPaths.SampleSettings();
        var bicep = File.ReadAllText(AppPaths.MainBicep);
        foreach (var expected in Table)
        {
            var trigger = Assert.Single(functions[expected.Name].GetProperty("bindings").EnumerateArray(),
                b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));
            Assert.Equal(expected.Trigger, trigger.GetProperty("type").GetString());
            Assert.Equal("In", trigger.GetProperty("direction").GetString());
            if (expected.Route is not null)
            {
                Assert.Equal(expected.Route, trigger.GetProperty("route").GetString());
                Assert.Equal(expected.Methods, trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
                Assert.Equal(expected.AuthLevel, trigger.GetProperty("authLevel").GetString());
            }
            if (expected.QueueSetting is not null)
            {
                Assert.Equal($"%{AppPaths.ConfigKey(expected.QueueSetting)}%{expected.QueueSuffix}", trigger.GetProperty("queueName").GetString());
                Assert.Equal(expected.Connection, trigger.GetProperty("connection").GetString());
                AssertSetBothPlaces(expected.QueueSetting, sample, bicep);
                Assert.Matches("^[a-z0-9-]{3,56}$", sample[expected.QueueSetting]);
            }
            if (expected.ScheduleSetting is not null)
            {
                Assert.Equal($"%{AppPaths.ConfigKey(expected.ScheduleSetting)}%", trigger.GetProperty("schedule").GetString());
                AssertSetBothPlaces(expected.ScheduleSetting, sample, bicep);
                Assert.Equal(6, sample[expected.ScheduleSetting].Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
            }
        }
    }

    /// <summary>The setting has a value in local.settings.sample.json and in the app settings infra/main.bicep writes.</summary>
    private static void AssertSetBothPlaces(string environmentName, IReadOnlyDictionary<string, string> sample, string bicep)
    {
        Assert.True(sample.TryGetValue(environmentName, out var value) && value.Length > 0, $"local.settings.sample.json does not set {environmentName}");
        Assert.Matches(new Regex($@"^\s*{Regex.Escape(environmentName)}:\s*\S", RegexOptions.Multiline), bicep);
    }
}
