using System.Text.Json.Serialization;

namespace Remediation.ClusterSimulator;

/// <summary>How containers running a given image behave, and the traffic figures they produce.</summary>
public sealed class ImageBehaviour
{
    /// <summary>healthy | crashloop | oomkilled | imagepullbackoff | pending.</summary>
    public string Mode { get; set; } = "healthy";

    /// <summary>For crashloop/oomkilled: how long the container runs (and is Ready) before it first crashes.</summary>
    [JsonConverter(typeof(DurationConverter))]
    public TimeSpan? CrashAfter { get; set; }

    /// <summary>Fraction of requests answered with 503 (0..1).</summary>
    public double ErrorRatio { get; set; }

    public double P50Ms { get; set; } = 10;

    public double P99Ms { get; set; } = 50;

    /// <summary>Requests per second a service backed by this image receives when no explicit traffic entry exists.</summary>
    public double RequestsPerSecond { get; set; }

    internal static ImageBehaviour Healthy { get; } = new();

    internal string NormalizedMode => Mode.Trim().ToLowerInvariant().Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
}
