using CsCheck;
using Remediation.Alerts;

namespace Remediation.Tests.Alerts;

/// <summary>
/// Incident ids under generated alerts (CsCheck generators driven by a fixed seed, so a failure reproduces): 32
/// lowercase hex digits, deterministic, and ordered newest started first, the order history pages come in.
/// </summary>
public sealed class IncidentIdentityPropertyTests
{
    private const int Iterations = 2000;

    private static readonly Gen<string> Fingerprints = Gen.Frequency(
        (3, Gen.String[Gen.Char["0123456789abcdef"], 16, 16]),
        (1, Gen.String[Gen.Char["ab-/|:%\u043E\u00e9 \"\\\n0"], 1, 60]));

    /// <summary>Unix milliseconds from year 1 to year 9999 (before 1970 clamps to 0; 2^48 ms is past year 9999).</summary>
    private static readonly Gen<long> Millis = Gen.Frequency(
        (6, Gen.Long[1_700_000_000_000, 1_900_000_000_000]),
        (1, Gen.Long[-62_135_596_800_000, 253_402_300_799_999]),
        (1, Gen.OneOfConst(-1L, 0L, 1L, 253_402_300_799_998, 253_402_300_799_999)));

    private static readonly Gen<(AlertSource Source, string Fingerprint, DateTimeOffset StartsAt)> Alerts =
        from source in Gen.Enum<AlertSource>()
        from fingerprint in Fingerprints
        from millis in Millis
        select (source, fingerprint, DateTimeOffset.FromUnixTimeMilliseconds(millis));

    private static void ForAll<T>(Gen<T> gen, ulong seed, Action<T> check)
    {
        var pcg = new PCG(20, seed);
        for (var i = 0; i < Iterations; i++)
        {
            check(gen.Generate(pcg, null, out _));
        }
    }

    private static long Clamped(DateTimeOffset at) => Math.Clamp(at.ToUnixTimeMilliseconds(), 0, IncidentIdentity.MaxTimePart);

    [Fact]
    public void A_later_start_gives_an_id_that_sorts_earlier_whatever_the_alert()
    {
        ForAll(Gen.Select(Alerts, Alerts), 20261130, pair =>
        {
            var (a, b) = pair;
            var idA = IncidentIdentity.For(a.Source, a.Fingerprint, a.StartsAt);
            var idB = IncidentIdentity.For(b.Source, b.Fingerprint, b.StartsAt);
            var order = Math.Sign(string.CompareOrdinal(idA, idB));
            if (Clamped(a.StartsAt) != Clamped(b.StartsAt))
            {
                Assert.True(order == -Math.Sign(Clamped(a.StartsAt).CompareTo(Clamped(b.StartsAt))), $"{a.StartsAt:O} -> {idA}, {b.StartsAt:O} -> {idB}");
            }
            else
            {
                Assert.Equal(idA[..12], idB[..12]);
            }
        });
    }

    [Fact]
    public void Ids_are_32_lowercase_hex_digits_and_equal_alerts_give_equal_ids()
    {
        ForAll(Alerts, 20261201, alert =>
        {
            var id = IncidentIdentity.For(alert.Source, alert.Fingerprint, alert.StartsAt);
            Assert.Matches("^[0-9a-f]{32}$", id);
            var elsewhere = alert.StartsAt.ToOffset(TimeSpan.FromHours(alert.StartsAt.Year == 9999 ? -5 : 5)); // the same instant
            Assert.Equal(id, IncidentIdentity.For(alert.Source, new string(alert.Fingerprint.AsSpan()), elsewhere));
            Assert.Equal((IncidentIdentity.MaxTimePart - Clamped(alert.StartsAt)).ToString("x12", System.Globalization.CultureInfo.InvariantCulture), id[..12]);
        });
    }

    [Fact]
    public void Alerts_that_differ_only_in_source_fingerprint_or_millisecond_get_different_ids()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_795_000_000_123);
        var ids = new[]
        {
            IncidentIdentity.For(AlertSource.Alertmanager, "3f9c2a7be1d04c55", at),
            IncidentIdentity.For(AlertSource.AzureMonitor, "3f9c2a7be1d04c55", at),
            IncidentIdentity.For(AlertSource.Alertmanager, "3f9c2a7be1d04c56", at),
            IncidentIdentity.For(AlertSource.Alertmanager, "3f9c2a7be1d04c55", at.AddMilliseconds(1)),
        };
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.True(string.CompareOrdinal(ids[3], ids[0]) < 0, "a millisecond later sorts first");
    }
}
