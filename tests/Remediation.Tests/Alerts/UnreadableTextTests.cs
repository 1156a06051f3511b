using System.Text;
using System.Text.Json.Nodes;
using Remediation.Alerts;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Alerts;

/// <summary>
/// A JSON string holding an unpaired surrogate escape ("\ud800") is a string, but not text: found from outside, the
/// refusal said "expected a string", or named "$" with the reader's own words. It names the string and says what is wrong.
/// </summary>
public sealed class UnreadableTextTests
{
    private const string Lone = "\\ud800";

    [Fact]
    public void Alertmanager_names_the_label_whose_value_is_not_text()
    {
        var body = $$"""{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"K","team":"a{{Lone}}"},"startsAt":"2026-11-20T00:00:00Z"}]}""";
        var ex = Assert.Throws<AlertParseException>(() => AlertmanagerNormalizer.Parse(Encoding.UTF8.GetBytes(body)));
        Assert.Equal("$.alerts[0].labels.team", ex.Field);
        Assert.Contains("not valid text", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Azure_monitor_names_the_field_whose_value_is_not_text()
    {
        var alert = JsonNode.Parse(File.ReadAllText(RepoPaths.Payload("azuremonitor/metric-alert-fired.json")))!;
        var body = alert.ToJsonString().Replace("\"alertRule\":\"", "\"alertRule\":\"x" + Lone, StringComparison.Ordinal);
        Assert.Contains(Lone, body, StringComparison.Ordinal);
        var ex = Assert.Throws<AlertParseException>(() => AzureMonitorNormalizer.Parse(Encoding.UTF8.GetBytes(body)));
        Assert.Equal("$.data.essentials.alertRule", ex.Field);
        Assert.Contains("not valid text", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("UTF-16 JSON text", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Event_grid_names_the_field_whose_value_is_not_text()
    {
        var events = File.ReadAllText(RepoPaths.Payload("eventgrid/subscription-validation.json"));
        var body = events.Replace("\"validationCode\": \"", "\"validationCode\": \"x" + Lone, StringComparison.Ordinal);
        Assert.Contains(Lone, body, StringComparison.Ordinal);
        var ex = Assert.Throws<AlertParseException>(() => EventGridNormalizer.Parse(Encoding.UTF8.GetBytes(body), "application/json"));
        Assert.Equal("$[0].data.validationCode", ex.Field);
        Assert.Contains("not valid text", ex.Message, StringComparison.Ordinal);
    }
}
