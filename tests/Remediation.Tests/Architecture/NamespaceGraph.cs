using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Remediation.Tests.Architecture;

/// <summary>Where one namespace uses another: the file, line and symbol of the first uses found.</summary>
internal sealed record NamespaceEdge(string From, string To, IReadOnlyList<string> Evidence);

/// <summary>
/// The dependencies between the namespaces of a compilation's own sources, read from the semantic model: every
/// name in code (types, members, extension methods) that binds to a symbol declared in another of its namespaces.
/// </summary>
internal static class NamespaceGraph
{
    private const int EvidencePerEdge = 3;

    /// <summary>The dependencies written in <paramref name="own"/> on types declared in <paramref name="own"/>.</summary>
    public static IReadOnlyList<NamespaceEdge> Edges(Compilation compilation, IReadOnlyCollection<SyntaxTree> own)
    {
        var uses = new Dictionary<(string From, string To), List<string>>();
        var ownTrees = own.ToHashSet();
        foreach (var tree in own)
        {
            var model = compilation.GetSemanticModel(tree);
            foreach (var name in tree.GetRoot().DescendantNodes().OfType<SimpleNameSyntax>())
            {
                if (DeclaringNamespace(name) is not { } from || TargetType(model, name, ownTrees) is not { } type)
                {
                    continue;
                }
                var to = type.ContainingNamespace.ToDisplayString();
                if (from == to)
                {
                    continue;
                }
                var evidence = EvidenceFor(uses, (from, to));
                if (evidence.Count < EvidencePerEdge)
                {
                    var line = name.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                    var shown = name.IsVar ? type.Name : name.Identifier.Text;
                    evidence.Add($"{ProductSources.Relative(tree.FilePath)}:{line} {shown}");
                }
            }
        }
        return [.. uses.Select(u => new NamespaceEdge(u.Key.From, u.Key.To, u.Value))];
    }

    /// <summary>The groups of namespaces that reach each other (strongly connected components of two or more).</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Cycles(IReadOnlyList<NamespaceEdge> edges)
    {
        var next = edges.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.Select(e => e.To).ToList());
        var nodes = edges.SelectMany(e => new[] { e.From, e.To }).Distinct().Order(StringComparer.Ordinal).ToList();
        var reach = nodes.ToDictionary(n => n, n => Reachable(n, next));
        return [.. nodes
            .Select(n => (IReadOnlyList<string>)[.. nodes.Where(m => reach[n].Contains(m) && reach[m].Contains(n))])
            .Where(group => group.Count > 1)
            .DistinctBy(group => string.Join(' ', group))];
    }

    private static HashSet<string> Reachable(string start, Dictionary<string, List<string>> next)
    {
        var seen = new HashSet<string> { start };
        var pending = new Stack<string>([start]);
        while (pending.TryPop(out var node))
        {
            foreach (var to in next.GetValueOrDefault(node) ?? [])
            {
                if (seen.Add(to))
                {
                    pending.Push(to);
                }
            }
        }
        return seen;
    }

    private static List<string> EvidenceFor(Dictionary<(string, string), List<string>> uses, (string, string) key)
    {
        if (!uses.TryGetValue(key, out var list))
        {
            list = [];
            uses[key] = list;
        }
        return list;
    }

    private static string? DeclaringNamespace(SyntaxNode node) =>
        node.Ancestors().OfType<BaseNamespaceDeclarationSyntax>().FirstOrDefault()?.Name.ToString();

    /// <summary>The type, declared in the own sources, that a name refers to or whose member it names.</summary>
    private static INamedTypeSymbol? TargetType(SemanticModel model, SimpleNameSyntax name, HashSet<SyntaxTree> own)
    {
        var info = model.GetSymbolInfo(name);
        var symbol = info.Symbol ?? info.CandidateSymbols.FirstOrDefault();
        var type = symbol switch
        {
            INamedTypeSymbol named => named.OriginalDefinition,
            IMethodSymbol method => (method.ReducedFrom ?? method).ContainingType,
            IPropertySymbol or IFieldSymbol or IEventSymbol => symbol.ContainingType,
            _ => null,
        };
        return type is not null && type.Locations.Any(l => l.SourceTree is { } tree && own.Contains(tree)) ? type : null;
    }
}
