using System.Globalization;
using k8s.Models;

namespace Remediation.Diagnosis;

/// <summary>The failure state of one pod, read from its container statuses and conditions.</summary>
public sealed record PodState(string Name, bool Ready, FailureClass? Failure, string? Reason, int Restarts, string? Detail,
    string? Container = null, string? Image = null, string? MemoryLimit = null, int? ExitCode = null)
{
    public static PodState Of(V1Pod pod)
    {
        var statuses = pod.Status?.ContainerStatuses ?? [];
        var restarts = statuses.Sum(s => s.RestartCount);
        var ready = statuses.Count > 0 && statuses.All(s => s.Ready);
        foreach (var status in statuses)
        {
            var waiting = status.State?.Waiting?.Reason;
            var terminated = status.LastState?.Terminated ?? status.State?.Terminated;
            var lastTerminated = terminated?.Reason;
            var limit = pod.Spec?.Containers?.FirstOrDefault(c => c.Name == status.Name)?.Resources?.Limits is { } limits && limits.TryGetValue("memory", out var mem)
                ? mem.ToString() : null;
            if (lastTerminated == "OOMKilled")
            {
                return new PodState(pod.Metadata.Name, ready, FailureClass.OutOfMemory, "OOMKilled", restarts,
                    $"container {status.Name} OOMKilled (exit code {terminated?.ExitCode}, memory limit {limit ?? "none"}){(waiting is null ? "" : ", " + waiting)}",
                    status.Name, status.Image, limit, terminated?.ExitCode);
            }
            if (waiting is "ImagePullBackOff" or "ErrImagePull" or "InvalidImageName")
            {
                var message = status.State?.Waiting?.Message;
                return new PodState(pod.Metadata.Name, ready, FailureClass.ImagePull, waiting, restarts,
                    $"container {status.Name} image {status.Image}: {waiting}{(string.IsNullOrEmpty(message) ? "" : ": " + message)}", status.Name, status.Image, limit);
            }
            if (waiting == "CrashLoopBackOff" || lastTerminated == "Error")
            {
                return new PodState(pod.Metadata.Name, ready, FailureClass.CrashLoop, waiting ?? lastTerminated, restarts,
                    $"container {status.Name} {waiting ?? lastTerminated}{(terminated is null ? "" : $", last exit code {terminated.ExitCode} ({terminated.Reason})")}, {status.RestartCount} restarts",
                    status.Name, status.Image, limit, terminated?.ExitCode);
            }
        }
        if (pod.Status?.Phase == "Pending" && pod.Status.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled" && c.Status == "False") is { } unscheduled)
        {
            return new PodState(pod.Metadata.Name, false, FailureClass.Unschedulable, unscheduled.Reason, restarts, unscheduled.Message);
        }
        return new PodState(pod.Metadata.Name, ready, null, null, restarts, null);
    }

    public string Describe() => Failure is null
        ? $"pod {Name}: {(Ready ? "ready" : "not ready")}, {Restarts} restarts"
        : $"pod {Name}: {Reason} ({Detail}), {Restarts} restarts";

    public Dictionary<string, string> Data()
    {
        var data = new Dictionary<string, string>
        {
            ["kind"] = "pod",
            ["pod"] = Name,
            ["ready"] = Ready ? "true" : "false",
            ["restarts"] = Restarts.ToString(CultureInfo.InvariantCulture),
            ["reason"] = Reason ?? "",
        };
        if (Container is not null)
        {
            data["container"] = Container;
        }
        if (Image is not null)
        {
            data["image"] = Image;
        }
        if (MemoryLimit is not null)
        {
            data["memoryLimit"] = MemoryLimit;
        }
        if (ExitCode is { } code)
        {
            data["exitCode"] = code.ToString(CultureInfo.InvariantCulture);
        }
        if (Failure == FailureClass.Unschedulable && Detail is not null)
        {
            data["message"] = Detail;
        }
        return data;
    }
}
