using System.Globalization;
using System.Text;

namespace Remediation.Benchmarks;

/// <summary>Alertmanager webhook (version 4) payloads, generated deterministically.</summary>
public static class Payloads
{
    /// <summary>Fixed alert start, so incident ids depend only on the run tag and the alert's index.</summary>
    public static readonly DateTimeOffset StartsAt = new(2026, 1, 15, 3, 0, 0, TimeSpan.Zero);

    public sealed record AlertSpec(string Namespace, string Deployment, string Fingerprint, int Index);

    public static string Alertmanager(IReadOnlyList<AlertSpec> alerts)
    {
        var b = new StringBuilder(256 + alerts.Count * 420);
        b.Append("{\"version\":\"4\",\"groupKey\":\"{}:{alertname=\\\"KubePodCrashLooping\\\"}\",\"truncatedAlerts\":0,\"status\":\"firing\",")
         .Append("\"receiver\":\"remediation\",\"groupLabels\":{\"alertname\":\"KubePodCrashLooping\"},")
         .Append("\"commonLabels\":{\"alertname\":\"KubePodCrashLooping\",\"severity\":\"warning\"},\"commonAnnotations\":{},")
         .Append("\"externalURL\":\"http://alertmanager.monitoring:9093\",\"alerts\":[");
        for (var i = 0; i < alerts.Count; i++)
        {
            var a = alerts[i];
            if (i > 0)
            {
                b.Append(',');
            }
            var startsAt = StartsAt.AddSeconds(a.Index % 86_400).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            b.Append("{\"status\":\"firing\",\"labels\":{\"alertname\":\"KubePodCrashLooping\",\"container\":\"app\",\"endpoint\":\"http\",")
             .Append("\"job\":\"kube-state-metrics\",\"namespace\":\"").Append(a.Namespace).Append("\",\"pod\":\"").Append(a.Deployment).Append("-5d8f7c9b4-x2x7q\",")
             .Append("\"deployment\":\"").Append(a.Deployment).Append("\",\"severity\":\"warning\",\"uid\":\"").Append(a.Fingerprint).Append("\"},")
             .Append("\"annotations\":{\"description\":\"Pod is in waiting state (reason: CrashLoopBackOff).\",\"summary\":\"Pod is crash looping.\"},")
             .Append("\"startsAt\":\"").Append(startsAt).Append("\",\"endsAt\":\"0001-01-01T00:00:00Z\",")
             .Append("\"generatorURL\":\"http://prometheus.monitoring:9090/graph?g0.expr=x\",\"fingerprint\":\"").Append(a.Fingerprint).Append("\"}");
        }
        b.Append("]}");
        return b.ToString();
    }

    /// <summary>A fingerprint unique to the phase and index (16 hex digits, like Alertmanager's); deterministic across runs.</summary>
    public static string Fingerprint(int phase, int index) =>
        (((ulong)(uint)phase << 32) | (uint)index).ToString("x16", CultureInfo.InvariantCulture);
}
