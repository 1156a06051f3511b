using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Remediation.Actions;
using Remediation.Cluster;
using Remediation.Approvals;

namespace Remediation.Tests.Approvals;

public sealed class ApprovalTokenTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-12-01T09:00:00Z", CultureInfo.InvariantCulture);
    private static readonly string Digest = PlanDigest.Of([Scale("41", 4)]);

    private static Mutation Scale(string rv, int replicas) => new()
    {
        Kind = MutationKind.PatchDeploymentScale, Namespace = "shop", Name = "api", ResourceVersion = rv,
        Patch = $$$"""{"spec":{"replicas":{{{replicas}}}},"metadata":{"resourceVersion":"{{{rv}}}"}}""", Description = "scale",
    };

    [Fact]
    public void Tokens_of_a_previous_key_verify_until_it_is_dropped_and_a_same_named_other_key_is_BadSignature()
    {
        var time = new FakeTimeProvider(Now);
        var old = ApprovalTokenPropertyTests.Options("k1", 1).Current;
        var token = new ApprovalTokenSigner(new ApprovalTokenOptions { Current = old }, time).Issue("inc-1", Digest, ApprovalVerb.Approve, Now.AddHours(1));

        var rotated = new ApprovalTokenSigner(new ApprovalTokenOptions { Current = ApprovalTokenPropertyTests.Options("k2", 2).Current, Previous = [old] }, time);
        Assert.True(rotated.Verify(token, "inc-1", Digest, ApprovalVerb.Approve).IsValid);
        Assert.StartsWith("v1.", rotated.Issue("inc-1", Digest, ApprovalVerb.Approve, Now.AddHours(1)), StringComparison.Ordinal);

        var dropped = new ApprovalTokenSigner(ApprovalTokenPropertyTests.Options("k2", 2), time).Verify(token, "inc-1", Digest, ApprovalVerb.Approve);
        Assert.Equal(ApprovalTokenFailure.BadSignature, dropped.Failure);
        Assert.Contains("'k1', which is not configured", dropped.Reason, StringComparison.Ordinal);

        var forged = new ApprovalTokenSigner(ApprovalTokenPropertyTests.Options("k1", 3), time).Verify(token, "inc-1", Digest, ApprovalVerb.Approve);
        Assert.Equal(ApprovalTokenFailure.BadSignature, forged.Failure);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("v1.")]
    [InlineData("v1..")]
    [InlineData("v2.WyJrMSJd.AAAA")]
    [InlineData("v1.WyJrMSJd.AAAA")]
    [InlineData("not a token")]
    [InlineData("v1.e30.e30.e30")]
    public void Malformed_tokens_are_Malformed(string? token)
    {
        var signer = new ApprovalTokenSigner(ApprovalTokenPropertyTests.Options(), new FakeTimeProvider(Now));
        var check = signer.Verify(token, "inc-1", Digest, ApprovalVerb.Approve);
        Assert.Equal(ApprovalTokenFailure.Malformed, check.Failure);
        Assert.Equal("the approval token is malformed", check.Reason);
    }

    [Fact]
    public void A_payload_that_is_not_text_is_Malformed_not_an_error()
    {
        var signer = new ApprovalTokenSigner(ApprovalTokenPropertyTests.Options(), new FakeTimeProvider(Now));
        foreach (var payload in new[] { "[\"k2\",\"\\ud800\",\"x\",\"approve\",1,\"n\"]"u8.ToArray(), [0x5b, 0x22, 0xf6, 0x22, 0x5d] })
        {
            var token = $"v1.{System.Buffers.Text.Base64Url.EncodeToString(payload)}.{System.Buffers.Text.Base64Url.EncodeToString(new byte[32])}";
            Assert.Equal(ApprovalTokenFailure.Malformed, signer.Verify(token, "inc-1", Digest, ApprovalVerb.Approve).Failure);
        }
    }

    [Fact]
    public void An_overlong_token_is_refused_unread()
    {
        var signer = new ApprovalTokenSigner(ApprovalTokenPropertyTests.Options(), new FakeTimeProvider(Now));
        var token = signer.Issue("inc-1", Digest, ApprovalVerb.Approve, Now.AddHours(1));
        Assert.Equal(ApprovalTokenFailure.Malformed, signer.Verify(token + new string('A', ApprovalTokenSigner.MaxTokenLength), "inc-1", Digest, ApprovalVerb.Approve).Failure);
    }

    [Fact]
    public void Issuing_refuses_a_past_expiry_a_bad_digest_and_keys_too_short_to_be_secret()
    {
        var signer = new ApprovalTokenSigner(ApprovalTokenPropertyTests.Options(), new FakeTimeProvider(Now));
        Assert.Throws<ArgumentOutOfRangeException>(() => signer.Issue("inc-1", Digest, ApprovalVerb.Approve, Now));
        Assert.Throws<ArgumentException>(() => signer.Issue("inc-1", "sha256:xyz", ApprovalVerb.Approve, Now.AddHours(1)));
        Assert.Throws<ArgumentException>(() => signer.Issue("", Digest, ApprovalVerb.Approve, Now.AddHours(1)));
        Assert.Throws<ArgumentException>(() => new ApprovalSigningKey("k1", new byte[31]));
        Assert.Throws<ArgumentException>(() => new ApprovalSigningKey("k 1", new byte[32]));
        Assert.Throws<ArgumentException>(() => ApprovalSigningKey.FromSecret("k1", Convert.ToBase64String(new byte[16])));
    }

    [Fact]
    public void A_key_from_a_base64_secret_signs_and_never_shows_itself()
    {
        var secret = Convert.ToBase64String(Enumerable.Range(200, 48).Select(i => (byte)i).ToArray());
        var key = ApprovalSigningKey.FromSecret("2026-12", secret);
        Assert.Equal("approval signing key '2026-12'", key.ToString());
        var options = new ApprovalTokenOptions { Current = key };
        Assert.DoesNotContain(secret[..10], options.ToString(), StringComparison.Ordinal);
        var signer = new ApprovalTokenSigner(options, new FakeTimeProvider(Now));
        var token = signer.Issue("inc-1", Digest, ApprovalVerb.Reject, Now.AddMinutes(30));
        Assert.True(signer.Verify(token, "inc-1", Digest, ApprovalVerb.Reject).IsValid);
    }

    [Fact]
    public void The_digest_ignores_descriptions_and_member_order_but_not_the_order_of_mutations()
    {
        var a = Scale("41", 4);
        var reordered = a with { Patch = """{ "metadata": {"resourceVersion":"41"}, "spec": {"replicas": 4} }""", Description = "other words" };
        Assert.Equal(PlanDigest.Of([a]), PlanDigest.Of([reordered]));
        Assert.Matches("^sha256:[0-9a-f]{64}$", PlanDigest.Of([a]));
        var b = Scale("42", 5);
        Assert.NotEqual(PlanDigest.Of([a, b]), PlanDigest.Of([b, a]));
        Assert.NotEqual(PlanDigest.Of([a]), PlanDigest.Of([a with { Patch = "not json" }]));
        Assert.NotEqual(PlanDigest.Of([a with { Patch = """{"patchText":"x"}""" }]), PlanDigest.Of([a with { Patch = "x" }]));
    }
}
