using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Remediation.Tests.Architecture;

/// <summary>One piece of code that is too long: where it starts, what it is called, how many lines it has.</summary>
internal sealed record SizeOffender(string File, int Line, string Name, int Lines)
{
    public override string ToString() => $"{File}:{Line} {Name} ({Lines} lines)";
}

/// <summary>Measures files and code bodies in lines, as an editor shows them.</summary>
internal static class CodeSize
{
    /// <summary>Lines in a file, counted as <c>wc -l</c> does for a file that ends with a newline.</summary>
    public static int FileLines(SyntaxTree tree)
    {
        var text = tree.GetText();
        var lines = text.Lines.Count;
        return lines > 0 && text.Lines[lines - 1].Span.IsEmpty ? lines - 1 : lines;
    }

    /// <summary>
    /// Every method, constructor, destructor, operator, accessor, expression-bodied property or indexer and local
    /// function that has a body, with its length from its first line (after attributes) to its last.
    /// </summary>
    public static IEnumerable<SizeOffender> Bodies(SyntaxTree tree)
    {
        var file = ProductSources.Relative(tree.FilePath);
        foreach (var node in tree.GetRoot().DescendantNodes())
        {
            if (Measured(node) is not { } measured)
            {
                continue;
            }
            var span = tree.GetLineSpan(measured);
            var first = span.StartLinePosition.Line;
            var last = span.EndLinePosition.Line;
            yield return new SizeOffender(file, first + 1, NameOf(node), last - first + 1);
        }
    }

    private static TextSpan? Measured(SyntaxNode node) => node switch
    {
        BaseMethodDeclarationSyntax m when m.Body is not null || m.ExpressionBody is not null => WithoutAttributes(m, m.AttributeLists),
        AccessorDeclarationSyntax a when a.Body is not null || a.ExpressionBody is not null => WithoutAttributes(a, a.AttributeLists),
        LocalFunctionStatementSyntax f => WithoutAttributes(f, f.AttributeLists),
        BasePropertyDeclarationSyntax p when ArrowOf(p) is not null => WithoutAttributes(p, p.AttributeLists),
        _ => null,
    };

    private static ArrowExpressionClauseSyntax? ArrowOf(BasePropertyDeclarationSyntax property) => property switch
    {
        PropertyDeclarationSyntax p => p.ExpressionBody,
        IndexerDeclarationSyntax i => i.ExpressionBody,
        _ => null,
    };

    private static TextSpan WithoutAttributes(SyntaxNode node, SyntaxList<AttributeListSyntax> attributes) =>
        attributes.Count == 0
            ? node.Span
            : TextSpan.FromBounds(attributes[^1].GetLastToken().GetNextToken().SpanStart, node.Span.End);

    private static string NameOf(SyntaxNode node)
    {
        var type = node.Ancestors().OfType<BaseTypeDeclarationSyntax>().FirstOrDefault()?.Identifier.Text ?? "(file)";
        return node switch
        {
            MethodDeclarationSyntax m => $"{type}.{m.Identifier.Text}",
            ConstructorDeclarationSyntax => $"{type} constructor",
            DestructorDeclarationSyntax => $"{type} finalizer",
            OperatorDeclarationSyntax o => $"{type} operator {o.OperatorToken.Text}",
            ConversionOperatorDeclarationSyntax c => $"{type} conversion to {c.Type}",
            AccessorDeclarationSyntax a => $"{type}.{MemberName(a.Parent?.Parent)} {a.Keyword.Text}",
            LocalFunctionStatementSyntax f => $"{type}.{EnclosingMember(f)} local function {f.Identifier.Text}",
            BasePropertyDeclarationSyntax p => $"{type}.{MemberName(p)}",
            _ => type,
        };
    }

    private static string MemberName(SyntaxNode? member) => member switch
    {
        PropertyDeclarationSyntax p => p.Identifier.Text,
        EventDeclarationSyntax e => e.Identifier.Text,
        IndexerDeclarationSyntax => "this[]",
        _ => "?",
    };

    private static string EnclosingMember(SyntaxNode node) => node.Ancestors().FirstOrDefault(a => a is MemberDeclarationSyntax) switch
    {
        MethodDeclarationSyntax m => m.Identifier.Text,
        ConstructorDeclarationSyntax => "constructor",
        BasePropertyDeclarationSyntax p => MemberName(p),
        _ => "?",
    };
}
