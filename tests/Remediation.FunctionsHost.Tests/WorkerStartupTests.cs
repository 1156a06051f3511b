using Remediation.Tests.Fixtures;

namespace Remediation.FunctionsHost.Tests;

/// <summary>The built worker against the fixture's host side: start, init, metadata, load; and refusal on bad settings.</summary>
public sealed class WorkerStartupTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task WorkerAnswersInitAndMetadataAndLoadsEveryFunction()
    {
        await using var azurite = await AzuriteProcess.StartNewAsync();
        await using var host = new WorkerHostFixture();
        await host.LaunchAsync(WorkerHostFixture.Settings(azurite));
        await host.InitializeAsync(Timeout);

        Assert.Equal(
            ["AlertmanagerWebhook", "ApproveRemediation", "AzureMonitorWebhook", "EventGridWebhook", "ListRemediations", "ProcessWorkItem", "RecordPoisonedWorkItem", "RejectRemediation", "VerifyRemediations"],
            host.FunctionIds.Keys.Order(StringComparer.Ordinal));
        Assert.NotNull(host.HttpUri);
        var processWorkItem = Assert.Single(host.Metadata, m => m.Name == "ProcessWorkItem");
        Assert.Contains(processWorkItem.RawBindings, b => b.Contains("%Remediation:Storage:WorkQueue%", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Remediation__Storage__WorkQueue", null, "Remediation:Storage:WorkQueue")]
    [InlineData("Remediation__Storage__WorkQueue", "Remediation_Work", "Remediation:Storage:WorkQueue")]
    [InlineData("Remediation__VerifySchedule", null, "Remediation:VerifySchedule")]
    [InlineData("Remediation__VerifySchedule", "every minute", "Remediation:VerifySchedule")]
    public async Task MissingOrWrongSettingStopsTheWorkerNamingTheSetting(string setting, string? value, string named)
    {
        await using var azurite = await AzuriteProcess.StartNewAsync();
        await using var host = new WorkerHostFixture();
        await host.LaunchAsync(WorkerHostFixture.Settings(azurite, new Dictionary<string, string?> { [setting] = value }));

        var exitCode = await host.WaitForExitAsync(Timeout);

        Assert.NotEqual(0, exitCode);
        Assert.Contains($"App setting '{named}'", host.Output, StringComparison.Ordinal);
    }
}
