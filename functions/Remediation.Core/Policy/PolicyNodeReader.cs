using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Remediation.Policy;

/// <summary>Typed reads of YAML nodes that collect errors with line numbers instead of throwing.</summary>
internal sealed class PolicyNodeReader(string source, List<string> errors)
{
    public void Error(YamlNode node, string message) => errors.Add($"{source}:{node.Start.Line}: {message}");

    public YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;

    public void CheckKeys(YamlMappingNode node, params string[] allowed)
    {
        foreach (var key in node.Children.Keys)
        {
            if (key is YamlScalarNode { Value: { } name } && !allowed.Contains(name, StringComparer.Ordinal))
            {
                Error(key, $"unknown key '{name}' (expected one of: {string.Join(", ", allowed)})");
            }
        }
    }

    public YamlMappingNode? Mapping(YamlMappingNode node, string key)
    {
        var child = Child(node, key);
        if (child is null || child is YamlScalarNode { Value: null or "" or "~" or "null" })
        {
            return null;
        }
        if (child is YamlMappingNode mapping)
        {
            return mapping;
        }
        Error(child, $"'{key}' must be a mapping");
        return null;
    }

    public string? String(YamlMappingNode node, string key)
    {
        var child = Child(node, key);
        if (child is null)
        {
            return null;
        }
        if (child is YamlScalarNode scalar)
        {
            return string.IsNullOrEmpty(scalar.Value) ? null : scalar.Value;
        }
        Error(child, $"'{key}' must be a string");
        return null;
    }

    public bool? Bool(YamlMappingNode node, string key)
    {
        var value = String(node, key);
        if (value is null)
        {
            return null;
        }
        if (bool.TryParse(value, out var result))
        {
            return result;
        }
        Error(Child(node, key)!, $"'{key}' must be true or false, not '{value}'");
        return null;
    }

    public int? Int(YamlMappingNode node, string key, int min)
    {
        var value = String(node, key);
        if (value is null)
        {
            return null;
        }
        if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result) && result >= min)
        {
            return result;
        }
        Error(Child(node, key)!, $"'{key}' must be an integer ≥ {min}, not '{value}'");
        return null;
    }

    public double? Double(YamlMappingNode node, string key)
    {
        var value = String(node, key);
        if (value is null)
        {
            return null;
        }
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var result) && result is >= 0 and <= 1)
        {
            return result;
        }
        Error(Child(node, key)!, $"'{key}' must be a ratio between 0 and 1, not '{value}'");
        return null;
    }

    public TimeSpan? Duration(YamlMappingNode node, string key)
    {
        var value = String(node, key);
        if (value is null)
        {
            return null;
        }
        if (DurationText.TryParse(value, out var result))
        {
            return result;
        }
        Error(Child(node, key)!, $"'{key}' must be a duration like 30s, 10m, 1h, not '{value}'");
        return null;
    }

    public List<string> StringList(YamlMappingNode node, string key)
    {
        var child = Child(node, key);
        switch (child)
        {
            case null:
                return [];
            case YamlSequenceNode sequence:
                var list = new List<string>();
                foreach (var item in sequence)
                {
                    if (item is YamlScalarNode { Value: { Length: > 0 } value })
                    {
                        list.Add(value);
                    }
                    else
                    {
                        Error(item, $"'{key}' items must be non-empty strings");
                    }
                }
                return list;
            default:
                Error(child, $"'{key}' must be a list");
                return [];
        }
    }

    public Dictionary<string, string> StringMap(YamlMappingNode node, string key)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var child = Child(node, key);
        if (child is null)
        {
            return result;
        }
        if (child is not YamlMappingNode mapping)
        {
            Error(child, $"'{key}' must be a mapping of strings");
            return result;
        }
        foreach (var (k, v) in mapping.Children)
        {
            if (k is YamlScalarNode { Value: { } name } && v is YamlScalarNode { Value: { } value })
            {
                result[name] = value;
            }
            else
            {
                Error(v, $"'{key}' values must be strings");
            }
        }
        return result;
    }
}
