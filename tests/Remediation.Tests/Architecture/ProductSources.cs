using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Architecture;

/// <summary>
/// The product's C# sources (every .cs file under functions/, build output excluded), parsed once per test run.
/// </summary>
internal static class ProductSources
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly Lazy<IReadOnlyList<SyntaxTree>> Trees = new(Parse);

    public static string FunctionsRoot { get; } = Path.Combine(RepoPaths.Root, "functions");

    /// <summary>Every product source file, parsed.</summary>
    public static IReadOnlyList<SyntaxTree> All => Trees.Value;

    /// <summary>The sources of one project folder under functions/ (e.g. "Remediation.Core").</summary>
    public static IReadOnlyList<SyntaxTree> Of(string project)
    {
        var folder = Path.Combine(FunctionsRoot, project) + Path.DirectorySeparatorChar;
        return [.. All.Where(t => t.FilePath.StartsWith(folder, StringComparison.Ordinal))];
    }

    /// <summary>The path shown in reports: relative to the repository root, with forward slashes.</summary>
    public static string Relative(string path) => Path.GetRelativePath(RepoPaths.Root, path).Replace('\\', '/');

    private static IReadOnlyList<SyntaxTree> Parse()
    {
        var files = Directory.EnumerateFiles(FunctionsRoot, "*.cs", SearchOption.AllDirectories)
            .Where(path => !IsBuildOutput(path))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.NotEmpty(files);
        return [.. files.Select(path => CSharpSyntaxTree.ParseText(File.ReadAllText(path), ParseOptions, path))];
    }

    private static bool IsBuildOutput(string path)
    {
        var segments = Path.GetRelativePath(FunctionsRoot, path).Split(Path.DirectorySeparatorChar);
        return segments.Any(s => s is "obj" or "bin");
    }
}
