using k8s.Models;

namespace Remediation.Diagnosis;

/// <summary>How diagnosis texts name revisions and ages.</summary>
internal static class DiagnosisText
{
    public static string Images(V1ReplicaSet rs) => string.Join(",", rs.Spec.Template.Spec.Containers.Select(c => c.Image));

    public static string Age(TimeSpan age) =>
        age.TotalMinutes < 1 ? $"{(int)age.TotalSeconds}s" : age.TotalHours < 1 ? $"{(int)age.TotalMinutes}m" : age.TotalDays < 2 ? $"{(int)age.TotalHours}h" : $"{(int)age.TotalDays}d";

    public static string Truncate(string s, int max) => s.Length > max ? s[..max] + "…" : s;
}
