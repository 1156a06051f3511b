using Microsoft.Extensions.Time.Testing;

namespace Remediation.Tests.Policy;

/// <summary>The memo behind the ledger's and the groups' memories: expiry, forgetting, and its bound.</summary>
public sealed class ExpiringMemoTests
{
    [Fact]
    public void A_value_is_answered_until_its_lifetime_has_passed_and_not_after()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        var memo = new ExpiringMemo<string>(TimeSpan.FromSeconds(5), 10, time);
        memo.Remember("a", "lead-1");
        time.Advance(TimeSpan.FromSeconds(4.999));
        Assert.True(memo.TryGet("a", out var value, out var learnedAt));
        Assert.Equal(("lead-1", new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero)), (value, learnedAt));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(memo.TryGet("a", out _, out _));
        memo.Remember("b", "x");
        memo.Forget("b");
        Assert.False(memo.TryGet("b", out _, out _));
    }

    [Fact]
    public void A_full_memo_drops_expired_keys_and_otherwise_remembers_nothing_new()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        var memo = new ExpiringMemo<int>(TimeSpan.FromSeconds(8), 3, time);
        memo.Remember("a", 1);
        memo.Remember("b", 2);
        time.Advance(TimeSpan.FromSeconds(5));
        memo.Remember("c", 3);
        memo.Remember("d", 4);
        Assert.Equal(3, memo.Count);
        Assert.False(memo.TryGet("d", out _, out _));
        // A key it holds is still updated when full.
        memo.Remember("c", 30);
        Assert.True(memo.TryGet("c", out var c, out _));
        Assert.Equal(30, c);

        time.Advance(TimeSpan.FromSeconds(3));
        memo.Remember("d", 4);
        Assert.Equal(2, memo.Count);
        Assert.True(memo.TryGet("d", out _, out _));
        Assert.False(memo.TryGet("a", out _, out _));
    }
}
