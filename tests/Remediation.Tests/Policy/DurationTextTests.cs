using CsCheck;
using Remediation.Policy;

namespace Remediation.Tests.Policy;

/// <summary>Durations are shown as the policy writes them (a refusal said "cooldown is 00:10:00" beside "6.8s").</summary>
public sealed class DurationTextTests
{
    [Theory]
    [InlineData(600, "10m")]
    [InlineData(5400, "1h30m")]
    [InlineData(90, "1m30s")]
    [InlineData(172800, "48h")]
    [InlineData(0, "0s")]
    public void A_duration_is_written_as_the_policy_writes_it(int seconds, string text) =>
        Assert.Equal(text, DurationText.Format(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void What_is_written_reads_back_as_the_same_duration() =>
        Gen.Int[0, 1_000_000].Sample(seconds =>
        {
            Assert.True(DurationText.TryParse(DurationText.Format(TimeSpan.FromSeconds(seconds)), out var read));
            Assert.Equal(TimeSpan.FromSeconds(seconds), read);
        });
}
