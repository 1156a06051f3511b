using System.Globalization;
using CsCheck;
using Microsoft.Extensions.Time.Testing;
using Remediation.Actions;
using Remediation.Cluster;
using Remediation.Approvals;

namespace Remediation.Tests.Approvals;

/// <summary>Approval tokens under generated inputs (CsCheck generators driven by a fixed seed, so a failure reproduces).</summary>
public sealed class ApprovalTokenPropertyTests
{
    private const int Iterations = 400;
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-12-01T09:00:00Z", CultureInfo.InvariantCulture);

    internal sealed record Case(string IncidentId, IReadOnlyList<Mutation> Plan, ApprovalVerb Verb, TimeSpan ValidFor);

    private static readonly Gen<string> Ids = Gen.Frequency(
        (3, Gen.String[Gen.Char["0123456789abcdef"], 32, 32]),
        (1, Gen.String[Gen.Char["ab-/.:%\u043E\u00e9 \"\\\n0"], 1, 40]));

    private static readonly Gen<Mutation> Mutations =
        from kind in Gen.Enum<MutationKind>()
        from ns in Gen.OneOfConst("shop", "payments", "default")
        from name in Gen.OneOfConst("checkout", "api", "reviews", "reviews-route")
        from rv in Gen.Int[1, 99_999]
        from replicas in Gen.Int[0, 50]
        select new Mutation
        {
            Kind = kind, Namespace = ns, Name = name, ResourceVersion = rv.ToString(CultureInfo.InvariantCulture),
            Patch = kind == MutationKind.DeletePod ? null : $$$"""{"metadata":{"resourceVersion":"{{{rv}}}"},"spec":{"replicas":{{{replicas}}}}}""",
            Description = "generated",
        };

    internal static readonly Gen<Case> Cases =
        from id in Ids
        from plan in Mutations.Array[1, 3]
        from verb in Gen.Enum<ApprovalVerb>()
        from seconds in Gen.Int[1, 7 * 24 * 3600]
        select new Case(id, plan, verb, TimeSpan.FromSeconds(seconds));

    private static (ApprovalTokenSigner Signer, FakeTimeProvider Time) Signer(ApprovalTokenOptions? options = null)
    {
        var time = new FakeTimeProvider(Now);
        return (new ApprovalTokenSigner(options ?? Options(), time), time);
    }

    internal static ApprovalTokenOptions Options(string keyId = "k2", byte fill = 7) =>
        new() { Current = new ApprovalSigningKey(keyId, Enumerable.Repeat(fill, 32).Select((b, i) => (byte)(b + i)).ToArray()) };

    private static void ForAll<T>(Gen<T> gen, ulong seed, Action<T, PCG> check)
    {
        var pcg = new PCG(11, seed);
        for (var i = 0; i < Iterations; i++)
        {
            check(gen.Generate(pcg, null, out _), pcg);
        }
    }

    [Fact]
    public void A_token_round_trips_for_its_incident_plan_and_verb_with_a_fresh_nonce()
    {
        var nonces = new HashSet<string>(StringComparer.Ordinal);
        ForAll(Cases, 20261201, (c, _) =>
        {
            var (signer, _) = Signer();
            var digest = PlanDigest.Of(c.Plan);
            var token = signer.Issue(c.IncidentId, digest, c.Verb, Now + c.ValidFor);
            var check = signer.Verify(token, c.IncidentId, digest, c.Verb);
            Assert.True(check.IsValid, $"{c}: {check.Reason}");
            Assert.Equal((c.IncidentId, digest, c.Verb, Now + c.ValidFor, "k2"), (check.Token!.IncidentId, check.Token.PlanDigest, check.Token.Verb, check.Token.ExpiresAt, check.Token.KeyId));
            Assert.True(nonces.Add(check.Token.Nonce), "a nonce was issued twice");
            Assert.All(token, ch => Assert.True(char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.', $"'{ch}' is not URL-safe"));
        });
    }

    private static readonly Gen<(Case Case, int Position, char Replacement, int Edit)> Edits =
        from c in Cases
        from position in Gen.Int[0, 10_000]
        from replacement in Gen.Char["AQgw09-_.=+/ \u00e9\0azZ"]
        from edit in Gen.Int[0, 2]
        select (c, position, replacement, edit);

    [Fact]
    public void Any_single_character_change_insertion_or_deletion_is_rejected()
    {
        ForAll(Edits, 20261202, (e, _) =>
        {
            var (signer, _) = Signer();
            var digest = PlanDigest.Of(e.Case.Plan);
            var token = signer.Issue(e.Case.IncidentId, digest, e.Case.Verb, Now + e.Case.ValidFor);
            var i = e.Position % token.Length;
            var altered = e.Edit switch
            {
                0 when token[i] != e.Replacement => string.Concat(token.AsSpan(0, i), e.Replacement.ToString(), token.AsSpan(i + 1)),
                0 => string.Concat(token.AsSpan(0, i), token[i] == 'A' ? "B" : "A", token.AsSpan(i + 1)),
                1 => token.Insert(i, e.Replacement.ToString()),
                _ => token.Remove(i, 1),
            };
            var check = signer.Verify(altered, e.Case.IncidentId, digest, e.Case.Verb);
            Assert.False(check.IsValid, $"altered token accepted: edit {e.Edit} at {i}");
            Assert.Contains(check.Failure, new ApprovalTokenFailure?[] { ApprovalTokenFailure.Malformed, ApprovalTokenFailure.BadSignature });
        });
    }

    [Fact]
    public void A_token_is_valid_until_its_expiry_and_Expired_from_then_on()
    {
        ForAll(Cases, 20261203, (c, _) =>
        {
            var (signer, time) = Signer();
            var digest = PlanDigest.Of(c.Plan);
            var token = signer.Issue(c.IncidentId, digest, c.Verb, Now + c.ValidFor);
            time.Advance(c.ValidFor - TimeSpan.FromSeconds(1));
            Assert.True(signer.Verify(token, c.IncidentId, digest, c.Verb).IsValid);
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(ApprovalTokenFailure.Expired, signer.Verify(token, c.IncidentId, digest, c.Verb).Failure);
            time.Advance(TimeSpan.FromDays(30));
            Assert.Equal(ApprovalTokenFailure.Expired, signer.Verify(token, c.IncidentId, digest, c.Verb).Failure);
        });
    }

    [Fact]
    public void A_token_for_incident_A_never_verifies_for_incident_B()
    {
        ForAll(from c in Cases from other in Ids where other != c.IncidentId select (c, other), 20261204, (x, _) =>
        {
            var (signer, _) = Signer();
            var digest = PlanDigest.Of(x.c.Plan);
            var token = signer.Issue(x.c.IncidentId, digest, x.c.Verb, Now + x.c.ValidFor);
            var check = signer.Verify(token, x.other, digest, x.c.Verb);
            Assert.Equal(ApprovalTokenFailure.OtherIncident, check.Failure);
        });
    }

    [Fact]
    public void A_changed_plan_is_PlanChanged_and_the_other_verb_is_WrongVerb()
    {
        ForAll(from c in Cases from which in Gen.Int[0, 5] from index in Gen.Int[0, 2] select (c, which, index), 20261205, (x, _) =>
        {
            var (signer, _) = Signer();
            var plan = x.c.Plan;
            var digest = PlanDigest.Of(plan);
            var token = signer.Issue(x.c.IncidentId, digest, x.c.Verb, Now + x.c.ValidFor);
            var changed = plan.ToArray();
            var i = x.index % changed.Length;
            changed[i] = x.which switch
            {
                0 => changed[i] with { ResourceVersion = changed[i].ResourceVersion + "0" },
                1 => changed[i] with { Name = changed[i].Name + "x" },
                2 => changed[i] with { Namespace = changed[i].Namespace + "x" },
                3 => changed[i] with { Patch = (changed[i].Patch ?? "{}").Replace("}}", ",\"paused\":true}}", StringComparison.Ordinal) },
                4 => changed[i] with { Kind = changed[i].Kind == MutationKind.DeletePod ? MutationKind.PatchDeployment : MutationKind.DeletePod },
                _ => changed[i] with { PatchType = "json" },
            };
            var newDigest = PlanDigest.Of(changed);
            Assert.NotEqual(digest, newDigest);
            Assert.Equal(ApprovalTokenFailure.PlanChanged, signer.Verify(token, x.c.IncidentId, newDigest, x.c.Verb).Failure);
            var other = x.c.Verb == ApprovalVerb.Approve ? ApprovalVerb.Reject : ApprovalVerb.Approve;
            Assert.Equal(ApprovalTokenFailure.WrongVerb, signer.Verify(token, x.c.IncidentId, digest, other).Failure);
        });
    }
}
