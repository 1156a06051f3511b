using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Remediation.Alerts;

/// <summary>Derives the incident key: one incident per alert series (fingerprint) and start time.</summary>
public static class IncidentIdentity
{
    public static string For(AlertSource source, string fingerprint, DateTimeOffset startsAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(fingerprint);
        var key = string.Create(CultureInfo.InvariantCulture,
            $"{source}|{fingerprint}|{startsAt.ToUniversalTime().ToUnixTimeMilliseconds()}");
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return Convert.ToHexStringLower(hash[..16]);
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
