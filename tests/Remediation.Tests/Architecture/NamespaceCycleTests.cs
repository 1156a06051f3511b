using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit.Abstractions;

namespace Remediation.Tests.Architecture;

/// <summary>
/// The folders of Remediation.Core depend on each other in one direction: no namespace reaches itself again through
/// others. A cycle is reported with every dependency inside it and where in the code it comes from.
/// </summary>
public sealed class NamespaceCycleTests(ITestOutputHelper output)
{
    [Fact]
    public void Core_compiles_in_the_test_so_every_name_binds()
    {
        var errors = CoreCompilation.Value.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d => d.ToString())
            .ToList();

        Assert.True(errors.Count == 0, "The dependency graph would miss names that do not bind:\n" + string.Join('\n', errors.Take(20)));
    }

    [Fact]
    public void Core_namespaces_have_no_cycle()
    {
        var edges = NamespaceGraph.Edges(CoreCompilation.Value, CoreCompilation.Sources);
        var cycles = NamespaceGraph.Cycles(edges);

        var report = cycles.Select(group => Describe(group, edges)).ToList();
        report.ForEach(output.WriteLine);
        Assert.True(cycles.Count == 0, $"{cycles.Count} namespace cycle(s) in Remediation.Core:\n" + string.Join('\n', report));
    }

    [Fact]
    public void A_cycle_through_a_member_use_is_found()
    {
        SyntaxTree[] trees =
        [
            Tree("/a.cs", "namespace A; public static class X { public static int N => B.Y.M(); }"),
            Tree("/b.cs", "namespace B; public static class Y { public static int M() => 1; public static int K => C.Z.Q; }"),
            Tree("/c.cs", "namespace C; public static class Z { public static int Q = A.X.N; }"),
            Tree("/d.cs", "namespace D; public static class W { public static int R => A.X.N; }"),
        ];
        var compilation = CSharpCompilation.Create("Sample", trees, [MetadataReference.CreateFromFile(typeof(object).Assembly.Location)]);

        var edges = NamespaceGraph.Edges(compilation, trees);
        var cycles = NamespaceGraph.Cycles(edges);

        Assert.Equal(["a.cs:1 Y", "a.cs:1 M"], edges.Single(e => e is { From: "A", To: "B" }).Evidence);
        Assert.Equal(["A B C"], cycles.Select(group => string.Join(' ', group)));
    }

    private static SyntaxTree Tree(string path, string code) =>
        CSharpSyntaxTree.ParseText(code, ProductSources.ParseOptions, Path.Combine(Fixtures.RepoPaths.Root, path.TrimStart('/')));

    private static string Describe(IReadOnlyList<string> group, IReadOnlyList<NamespaceEdge> edges)
    {
        var inside = edges
            .Where(e => group.Contains(e.From) && group.Contains(e.To))
            .OrderBy(e => e.From, StringComparer.Ordinal)
            .ThenBy(e => e.To, StringComparer.Ordinal)
            .Select(e => $"    {e.From} -> {e.To}: {string.Join("; ", e.Evidence)}");
        return $"cycle among {string.Join(", ", group)}:\n{string.Join('\n', inside)}";
    }
}
