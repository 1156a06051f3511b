using System.Globalization;
using k8s.Models;

namespace Remediation.Diagnosis;

/// <summary>An autoscaling/v2 HPA's scale state and CPU utilization.</summary>
public sealed record HpaState(string Name, int Min, int Max, int Current, int Desired, int? CpuCurrent, int? CpuTarget, string? LimitedMessage)
{
    public bool AtMax => Current >= Max || Desired >= Max;

    public static HpaState Of(V2HorizontalPodAutoscaler hpa)
    {
        var cpuTarget = hpa.Spec.Metrics?.FirstOrDefault(m => m.Type == "Resource" && m.Resource?.Name == "cpu")?.Resource.Target.AverageUtilization;
        var cpuCurrent = hpa.Status?.CurrentMetrics?.FirstOrDefault(m => m.Type == "Resource" && m.Resource?.Name == "cpu")?.Resource.Current.AverageUtilization;
        var limited = hpa.Status?.Conditions?.FirstOrDefault(c => c.Type == "ScalingLimited" && c.Status == "True");
        return new HpaState(hpa.Metadata.Name, hpa.Spec.MinReplicas ?? 1, hpa.Spec.MaxReplicas, hpa.Status?.CurrentReplicas ?? 0, hpa.Status?.DesiredReplicas ?? 0,
            cpuCurrent, cpuTarget, limited is null ? null : $"{limited.Reason}: {limited.Message}");
    }

    public string Describe() =>
        $"HPA {Name}: {Current}/{Max} replicas (min {Min}, desired {Desired}){(CpuCurrent is null ? "" : $", CPU {CpuCurrent}% (target {CpuTarget}%)")}{(AtMax ? ", at its maximum" : "")}{(LimitedMessage is null ? "" : $"; {LimitedMessage}")}";

    public Dictionary<string, string> Data() => new()
    {
        ["kind"] = "HorizontalPodAutoscaler",
        ["name"] = Name,
        ["currentReplicas"] = Current.ToString(CultureInfo.InvariantCulture),
        ["desiredReplicas"] = Desired.ToString(CultureInfo.InvariantCulture),
        ["minReplicas"] = Min.ToString(CultureInfo.InvariantCulture),
        ["maxReplicas"] = Max.ToString(CultureInfo.InvariantCulture),
        ["cpuUtilization"] = CpuCurrent?.ToString(CultureInfo.InvariantCulture) ?? "",
        ["cpuTarget"] = CpuTarget?.ToString(CultureInfo.InvariantCulture) ?? "",
        ["atMax"] = AtMax ? "true" : "false",
    };
}
