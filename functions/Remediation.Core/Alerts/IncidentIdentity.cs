using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Remediation.Alerts;

/// <summary>Derives the incident key: one incident per alert series (fingerprint) and start time.</summary>
public static class IncidentIdentity
{
    /// <summary>The largest time part: 48 bits, 12 hex digits.</summary>
    public const long MaxTimePart = (1L << 48) - 1;

    /// <summary>
    /// The incident id: 32 lowercase hex digits, deterministic in (<paramref name="source"/>,
    /// <paramref name="fingerprint"/>, <paramref name="startsAt"/>). The first 12 digits are
    /// <see cref="MaxTimePart"/> minus <paramref name="startsAt"/> in Unix milliseconds (clamped to [0, 2^48 − 1]), the
    /// other 20 the start of the SHA-256 of the three. So ids sort (ordinal, as Table Storage sorts keys) newest first
    /// by when the alert started firing (Alertmanager's startsAt, Azure Monitor's firedDateTime), and history pages
    /// come in that order with no index of their own.
    /// </summary>
    public static string For(AlertSource source, string fingerprint, DateTimeOffset startsAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(fingerprint);
        var millis = startsAt.ToUniversalTime().ToUnixTimeMilliseconds();
        var key = string.Create(CultureInfo.InvariantCulture, $"{source}|{fingerprint}|{millis}");
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        var timePart = MaxTimePart - Math.Clamp(millis, 0, MaxTimePart);
        return timePart.ToString("x12", CultureInfo.InvariantCulture) + Convert.ToHexStringLower(hash[..10]);
    }

    /// <summary>Alertmanager's fingerprint when the sender did not provide one: a hash of the sorted label set.</summary>
    public static string FingerprintOf(IReadOnlyDictionary<string, string> labels)
    {
        var builder = new StringBuilder();
        foreach (var (key, value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            builder.Append(key).Append('\u00ff').Append(value).Append('\u00ff');
        }
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(builder.ToString()), hash);
        return Convert.ToHexStringLower(hash[..8]);
    }
}
