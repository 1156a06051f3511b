using Xunit.Abstractions;

namespace Remediation.Tests.Architecture;

/// <summary>
/// A newcomer reads the product one screen at a time: no file under functions/ is over 300 lines and no method,
/// constructor, accessor or local function over 60. Every offender is listed as file:line, name and length.
/// </summary>
public sealed class SizeTests(ITestOutputHelper output)
{
    public const int MaxFileLines = 300;
    public const int MaxBodyLines = 60;

    [Fact]
    public void No_product_file_is_over_300_lines()
    {
        var offenders = ProductSources.All
            .Select(tree => new SizeOffender(ProductSources.Relative(tree.FilePath), 1, "file", CodeSize.FileLines(tree)))
            .Where(file => file.Lines > MaxFileLines)
            .OrderByDescending(file => file.Lines)
            .ToList();

        Report($"files over {MaxFileLines} lines", offenders);
    }

    [Fact]
    public void No_product_method_is_over_60_lines()
    {
        var offenders = ProductSources.All
            .SelectMany(CodeSize.Bodies)
            .Where(body => body.Lines > MaxBodyLines)
            .OrderByDescending(body => body.Lines)
            .ToList();

        Report($"methods, constructors, accessors and local functions over {MaxBodyLines} lines", offenders);
    }

    [Fact]
    public void The_measure_counts_lines_of_a_body_and_finds_nested_functions()
    {
        var tree = Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText("""
            namespace N;
            class C
            {
                [System.Obsolete]
                void M()
                {
                    int L() => 1;
                }
                int P { get { return 1; } }
            }
            """, ProductSources.ParseOptions, "/x/C.cs");

        var bodies = CodeSize.Bodies(tree).ToList();

        Assert.Equal(
            ["C.M:5 (4)", "C.M local function L:7 (1)", "C.P get:9 (1)"],
            bodies.Select(b => $"{b.Name}:{b.Line} ({b.Lines})"));
        Assert.Equal(10, CodeSize.FileLines(tree));
    }

    private void Report(string what, IReadOnlyList<SizeOffender> offenders)
    {
        foreach (var offender in offenders)
        {
            output.WriteLine(offender.ToString());
        }
        Assert.True(offenders.Count == 0, $"{offenders.Count} {what}:\n" + string.Join('\n', offenders));
    }
}
