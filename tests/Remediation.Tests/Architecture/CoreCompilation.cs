using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Remediation.Tests.Architecture;

/// <summary>
/// Remediation.Core compiled from its sources in memory, against the assemblies this test runs with and with the
/// SDK's source generators (JSON, regular expressions, logging), so that every name binds to its symbol.
/// </summary>
internal static class CoreCompilation
{
    private static readonly Lazy<Compilation> Compiled = new(Compile);

    /// <summary>The compilation, generated sources included.</summary>
    public static Compilation Value => Compiled.Value;

    /// <summary>The sources written by hand: the files under functions/Remediation.Core.</summary>
    public static IReadOnlyList<SyntaxTree> Sources { get; } = ProductSources.Of("Remediation.Core");

    /// <summary>The global usings the .NET SDK adds when ImplicitUsings is enabled (Directory.Build.props).</summary>
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    private static Compilation Compile()
    {
        var trees = Sources.Append(CSharpSyntaxTree.ParseText(ImplicitUsings, ProductSources.ParseOptions, "GlobalUsings.g.cs"));
        var compilation = CSharpCompilation.Create(
            "Remediation.Core",
            trees,
            References(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var driver = CSharpGeneratorDriver.Create(Generators(), parseOptions: ProductSources.ParseOptions);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var generated, out _);
        return generated;
    }

    private static IEnumerable<MetadataReference> References()
    {
        var platform = (string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")
            ?? throw new InvalidOperationException("The runtime did not list its trusted platform assemblies.");
        return platform.Split(Path.PathSeparator)
            .Where(path => path.EndsWith(".dll", StringComparison.Ordinal))
            .Where(path => !Path.GetFileName(path).StartsWith("Remediation.", StringComparison.Ordinal))
            .Select(path => MetadataReference.CreateFromFile(path));
    }

    private static IEnumerable<ISourceGenerator> Generators()
    {
        string[] generators =
        [
            Path.Combine(Pack("Microsoft.NETCore.App.Ref"), "System.Text.Json.SourceGeneration.dll"),
            Path.Combine(Pack("Microsoft.NETCore.App.Ref"), "System.Text.RegularExpressions.Generator.dll"),
            Path.Combine(Pack("Microsoft.AspNetCore.App.Ref"), "Microsoft.Extensions.Logging.Generators.dll"),
        ];
        return generators
            .Select(Assembly.LoadFrom)
            .SelectMany(LoadableTypes)
            .Where(type => typeof(IIncrementalGenerator).IsAssignableFrom(type) && !type.IsAbstract
                && type.GetCustomAttribute<GeneratorAttribute>() is not null)
            .Select(type => ((IIncrementalGenerator)Activator.CreateInstance(type)!).AsSourceGenerator());
    }

    /// <summary>
    /// The types of a generator assembly that load here: its code fixes need the IDE's workspace assemblies, which a
    /// test does not have, and are not needed to run the generators.
    /// </summary>
    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException partial)
        {
            return partial.Types.OfType<Type>();
        }
    }

    /// <summary>The C# analyzers folder of the installed targeting pack that matches the running runtime.</summary>
    private static string Pack(string name)
    {
        var runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var dotnetRoot = Path.GetFullPath(Path.Combine(runtime, "..", "..", ".."));
        var versions = new DirectoryInfo(Path.Combine(dotnetRoot, "packs", name));
        var version = versions.EnumerateDirectories()
            .Where(d => Version.TryParse(d.Name, out var v) && v.Major == Environment.Version.Major)
            .OrderByDescending(d => Version.Parse(d.Name))
            .FirstOrDefault()
            ?? throw new InvalidOperationException($"No {name} {Environment.Version.Major}.x under {versions.FullName}.");
        return Path.Combine(version.FullName, "analyzers", "dotnet", "cs");
    }
}
