using System.Text.Json.Nodes;
using Remediation.ClusterSimulator.Json;

namespace Remediation.ClusterSimulator.Api;

/// <summary>A parsed label selector (string form: a=b,c!=d,e in (x,y),f notin (z),g,!h).</summary>
internal sealed class LabelSelector
{
    private readonly List<Func<IReadOnlyDictionary<string, string>, bool>> _terms = [];

    public static LabelSelector Everything { get; } = new();

    public bool IsEmpty => _terms.Count == 0;

    /// <summary>The store's facts (<see cref="ObjectStore.LabelFact"/>) every match carries: one per equality term.</summary>
    public List<string> Facts { get; } = [];

    public bool Matches(IReadOnlyDictionary<string, string> labels) => _terms.All(t => t(labels));

    public bool Matches(JsonObject obj) => IsEmpty || Matches(J.StringMap(J.At(obj, "metadata", "labels")));

    public static LabelSelector Parse(string? text)
    {
        var selector = new LabelSelector();
        if (string.IsNullOrWhiteSpace(text))
        {
            return selector;
        }

        foreach (var raw in SplitTopLevel(text))
        {
            var term = raw.Trim();
            if (term.Length == 0)
            {
                continue;
            }

            var inIdx = IndexOfWord(term, " in ");
            var notInIdx = IndexOfWord(term, " notin ");
            if (notInIdx > 0)
            {
                var key = term[..notInIdx].Trim();
                var values = ParseSet(term[(notInIdx + 7)..], text);
                selector._terms.Add(l => !l.TryGetValue(key, out var v) || !values.Contains(v));
            }
            else if (inIdx > 0)
            {
                var key = term[..inIdx].Trim();
                var values = ParseSet(term[(inIdx + 4)..], text);
                selector._terms.Add(l => l.TryGetValue(key, out var v) && values.Contains(v));
            }
            else if (term.Contains("!=", StringComparison.Ordinal))
            {
                var i = term.IndexOf("!=", StringComparison.Ordinal);
                var key = term[..i].Trim();
                var value = term[(i + 2)..].Trim();
                selector._terms.Add(l => !l.TryGetValue(key, out var v) || v != value);
            }
            else if (term.Contains('='))
            {
                var i = term.IndexOf('=');
                var key = term[..i].Trim();
                var value = term[(i + 1)..].TrimStart('=').Trim();
                Validate(key, text);
                selector._terms.Add(l => l.TryGetValue(key, out var v) && v == value);
                selector.Facts.Add(ObjectStore.LabelFact(key, value));
            }
            else if (term.StartsWith('!'))
            {
                var key = term[1..].Trim();
                Validate(key, text);
                selector._terms.Add(l => !l.ContainsKey(key));
            }
            else
            {
                Validate(term, text);
                selector._terms.Add(l => l.ContainsKey(term));
            }
        }

        return selector;
    }

    /// <summary>Builds a selector from a metav1.LabelSelector object (matchLabels + matchExpressions).</summary>
    public static LabelSelector FromObject(JsonNode? selector)
    {
        var result = new LabelSelector();
        if (selector is not JsonObject o)
        {
            return result;
        }

        foreach (var (k, v) in J.StringMap(o["matchLabels"]))
        {
            result._terms.Add(l => l.TryGetValue(k, out var x) && x == v);
            result.Facts.Add(ObjectStore.LabelFact(k, v));
        }

        if (o["matchExpressions"] is JsonArray exprs)
        {
            foreach (var e in exprs)
            {
                var key = J.Str(e, "key") ?? "";
                var op = J.Str(e, "operator") ?? "";
                var values = (J.At(e, "values") as JsonArray)?.Select(v => v?.GetValue<string>() ?? "").ToHashSet(StringComparer.Ordinal) ?? [];
                result._terms.Add(op switch
                {
                    "In" => l => l.TryGetValue(key, out var x) && values.Contains(x),
                    "NotIn" => l => !l.TryGetValue(key, out var x) || !values.Contains(x),
                    "Exists" => l => l.ContainsKey(key),
                    "DoesNotExist" => l => !l.ContainsKey(key),
                    _ => _ => false,
                });
            }
        }

        return result;
    }

    public static string ToText(JsonNode? selector)
    {
        var parts = new List<string>();
        if (selector is JsonObject o)
        {
            parts.AddRange(J.StringMap(o["matchLabels"]).Select(p => $"{p.Key}={p.Value}"));
            if (o["matchExpressions"] is JsonArray exprs)
            {
                foreach (var e in exprs)
                {
                    var key = J.Str(e, "key") ?? "";
                    var values = (J.At(e, "values") as JsonArray)?.Select(v => v?.GetValue<string>() ?? "").ToList() ?? [];
                    parts.Add((J.Str(e, "operator") ?? "") switch
                    {
                        "In" => $"{key} in ({string.Join(",", values)})",
                        "NotIn" => $"{key} notin ({string.Join(",", values)})",
                        "Exists" => key,
                        _ => "!" + key,
                    });
                }
            }
        }

        return string.Join(",", parts);
    }

    private static int IndexOfWord(string term, string word) => term.IndexOf(word, StringComparison.Ordinal);

    private static HashSet<string> ParseSet(string text, string whole)
    {
        var t = text.Trim();
        if (!t.StartsWith('(') || !t.EndsWith(')'))
        {
            throw ApiException.BadRequest($"unable to parse requirement: found '{t}', expected: '('");
        }

        _ = whole;
        return t[1..^1].Split(',').Select(s => s.Trim()).Where(s => s.Length > 0).ToHashSet(StringComparer.Ordinal);
    }

    private static void Validate(string key, string whole)
    {
        if (key.Length == 0 || key.Any(c => char.IsWhiteSpace(c) || c is '(' or ')' or ','))
        {
            throw ApiException.BadRequest($"unable to parse requirement: invalid label key \"{key}\" in selector \"{whole}\"");
        }
    }

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '(')
            {
                depth++;
            }
            else if (text[i] == ')')
            {
                depth--;
            }
            else if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }

        yield return text[start..];
    }
}

/// <summary>A field selector: comma separated path=value / path==value / path!=value terms over dotted paths.</summary>
internal sealed class FieldSelector
{
    private readonly List<(string[] Path, string Value, bool Negate)> _terms = [];

    /// <summary>The store's facts (<see cref="ObjectStore.InvolvedObjectFact"/>) every match carries.</summary>
    public List<string> Facts { get; } = [];

    public static FieldSelector Parse(string? text)
    {
        var fs = new FieldSelector();
        if (string.IsNullOrWhiteSpace(text))
        {
            return fs;
        }

        foreach (var raw in text.Split(','))
        {
            var term = raw.Trim();
            if (term.Length == 0)
            {
                continue;
            }

            var negate = term.Contains("!=", StringComparison.Ordinal);
            var idx = negate ? term.IndexOf("!=", StringComparison.Ordinal) : term.IndexOf('=');
            if (idx <= 0)
            {
                throw ApiException.BadRequest($"invalid selector: '{text}'; can't understand '{term}'");
            }

            var key = term[..idx].Trim();
            var value = term[(idx + (negate ? 2 : 1))..].TrimStart('=').Trim();
            fs._terms.Add((key.Split('.'), value, negate));
            if (!negate && key == "involvedObject.name")
            {
                fs.Facts.Add(ObjectStore.InvolvedObjectFact(value));
            }
        }

        return fs;
    }

    public bool Matches(JsonObject obj)
    {
        foreach (var (path, value, negate) in _terms)
        {
            var node = J.At(obj, path);
            var actual = node switch
            {
                null => "",
                JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String => v.GetValue<string>(),
                _ => node.ToJsonString(),
            };
            if ((actual == value) == negate)
            {
                return false;
            }
        }

        return true;
    }
}
