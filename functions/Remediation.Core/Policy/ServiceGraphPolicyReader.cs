using System.Globalization;
using Remediation.ServiceGraph;
using YamlDotNet.RepresentationModel;

namespace Remediation.Policy;

/// <summary>
/// The policy's <c>serviceGraph:</c> section: the health tolerances of the service-graph blame (Kiali's defaults when
/// absent) and how much of a caller's failures a callee must explain. Errors name the path (<c>serviceGraph.x</c>).
/// </summary>
internal static class ServiceGraphPolicyReader
{
    public const string Key = "serviceGraph";

    private static readonly string[] Keys =
        ["serverErrorDegraded", "serverErrorFailure", "clientErrorDegraded", "clientErrorFailure", "minRequestsPerSecond", "tolerance", "partialFactor"];

    public static BlameOptions Read(PolicyNodeReader reader, YamlMappingNode root)
    {
        var defaults = BlameOptions.Default;
        if (reader.Mapping(root, Key) is not { } node)
        {
            return defaults;
        }

        reader.CheckKeys(node, Keys);
        var kiali = HealthThresholds.Kiali;
        var thresholds = new HealthThresholds(
            Ratio(reader, node, "serverErrorDegraded") ?? kiali.ServerErrorDegraded,
            Ratio(reader, node, "serverErrorFailure") ?? kiali.ServerErrorFailure,
            Ratio(reader, node, "clientErrorDegraded") ?? kiali.ClientErrorDegraded,
            Ratio(reader, node, "clientErrorFailure") ?? kiali.ClientErrorFailure,
            Rate(reader, node, "minRequestsPerSecond") ?? kiali.MinRequestsPerSecond);
        if (thresholds.Problem() is { } problem)
        {
            reader.Error(node, $"{Key}.{problem}");
        }

        return new BlameOptions(thresholds, Ratio(reader, node, "tolerance") ?? defaults.Tolerance, Ratio(reader, node, "partialFactor") ?? defaults.PartialFactor);
    }

    private static double? Ratio(PolicyNodeReader reader, YamlMappingNode node, string key)
    {
        var value = reader.String(node, key);
        if (value is null)
        {
            return null;
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var result) && result is >= 0 and <= 1)
        {
            return result;
        }

        reader.Error(reader.Child(node, key)!, $"'{Key}.{key}' must be a ratio between 0 and 1, not '{value}'");
        return null;
    }

    private static double? Rate(PolicyNodeReader reader, YamlMappingNode node, string key)
    {
        var value = reader.String(node, key);
        if (value is null)
        {
            return null;
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var result) && double.IsFinite(result) && result >= 0)
        {
            return result;
        }

        reader.Error(reader.Child(node, key)!, $"'{Key}.{key}' must be a request rate of 0 or more (requests per second), not '{value}'");
        return null;
    }
}
