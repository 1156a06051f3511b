using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;

namespace Remediation.Tests.Ui;

/// <summary>Debian's chromium (scripts/install-deps.sh) in headless mode: DOM dumps and screenshots of a URL.</summary>
public static class HeadlessChromium
{
    public static string? FindBinary()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Append("/usr/bin"))
        {
            foreach (var name in new[] { "chromium", "chromium-browser" })
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        return null;
    }

    /// <summary>The DOM after load (--dump-dom).</summary>
    public static async Task<string> DumpDomAsync(Uri url) => (await RunAsync($"--dump-dom", url)).Stdout;

    /// <summary>The DOM after load and the page's console messages (Chromium logs them to stderr as "CONSOLE" lines).</summary>
    public static async Task<(string Dom, IReadOnlyList<string> Console)> DumpDomWithConsoleAsync(Uri url)
    {
        var (stdout, stderr) = await RunAsync("--dump-dom", url, "--enable-logging=stderr", "--v=0");
        var console = stderr.Split('\n').Where(line => line.Contains(":CONSOLE", StringComparison.Ordinal)).Select(line => line.TrimEnd('\r')).ToList();
        return (stdout, console);
    }

    /// <summary>Renders the page at 1280x900 into a PNG file.</summary>
    public static async Task ScreenshotAsync(Uri url, string png) => await RunAsync($"--screenshot={png}", url);

    private static async Task<(string Stdout, string Stderr)> RunAsync(string mode, Uri url, params string[] extra)
    {
        var bin = FindBinary() ?? throw new InvalidOperationException("chromium is not installed: run scripts/install-deps.sh (apt-get install chromium)");
        var profile = Directory.CreateTempSubdirectory("chromium-").FullName;
        try
        {
            var start = new ProcessStartInfo(bin)
            {
                ArgumentList =
                {
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--user-data-dir=" + profile, "--window-size=1280,900", mode, url.ToString(),
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var option in extra)
            {
                start.ArgumentList.Insert(start.ArgumentList.Count - 2, option);
            }
            using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start chromium");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium {mode} {url} did not finish in 60 s: {await stderr}");
            }
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"chromium exited with {process.ExitCode}: {await stderr}");
            }
            return (await stdout, await stderr);
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }

    /// <summary>Width and height from a PNG's IHDR chunk (signature, then length, "IHDR", width, height).</summary>
    public static (int Width, int Height) PngSize(byte[] png)
    {
        ArgumentNullException.ThrowIfNull(png);
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        if (png.Length < 24 || !png.AsSpan(0, 8).SequenceEqual(signature) || Encoding.ASCII.GetString(png, 12, 4) != "IHDR")
        {
            throw new InvalidDataException("not a PNG");
        }
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16, 4)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20, 4)));
    }

    /// <summary>
    /// Distinct colours of the decoded image (RGB/RGBA, 8-bit, non-interlaced, as Chromium writes them), counting
    /// at most <paramref name="enough"/>; proves the screenshot is not one flat colour.
    /// </summary>
    public static int DistinctColours(byte[] png, int enough = 16)
    {
        ArgumentNullException.ThrowIfNull(png);
        var (width, height) = PngSize(png);
        var colourType = png[25];
        var bytesPerPixel = colourType switch { 2 => 3, 6 => 4, _ => throw new InvalidDataException($"PNG colour type {colourType} not handled") };
        if (png[24] != 8 || png[28] != 0)
        {
            throw new InvalidDataException("only 8-bit non-interlaced PNGs are handled");
        }
        using var compressed = new MemoryStream();
        var offset = 8;
        while (offset + 8 <= png.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset, 4));
            var type = Encoding.ASCII.GetString(png, offset + 4, 4);
            if (type == "IDAT")
            {
                compressed.Write(png, offset + 8, length);
            }
            offset += 12 + length;
        }
        compressed.Position = 0;
        using var inflate = new System.IO.Compression.ZLibStream(compressed, System.IO.Compression.CompressionMode.Decompress);
        var stride = width * bytesPerPixel;
        var previous = new byte[stride];
        var current = new byte[stride];
        var colours = new HashSet<int>();
        for (var y = 0; y < height && colours.Count < enough; y++)
        {
            var filter = inflate.ReadByte();
            inflate.ReadExactly(current);
            Unfilter(filter, current, previous, bytesPerPixel);
            for (var x = 0; x < stride; x += bytesPerPixel)
            {
                colours.Add(current[x] << 16 | current[x + 1] << 8 | current[x + 2]);
            }
            (previous, current) = (current, previous);
        }
        return colours.Count;
    }

    private static void Unfilter(int filter, byte[] row, byte[] above, int bpp)
    {
        for (var i = 0; i < row.Length; i++)
        {
            int left = i >= bpp ? row[i - bpp] : 0, up = above[i], upLeft = i >= bpp ? above[i - bpp] : 0;
            row[i] = (byte)(row[i] + filter switch
            {
                0 => 0,
                1 => left,
                2 => up,
                3 => (left + up) / 2,
                4 => Paeth(left, up, upLeft),
                _ => throw new InvalidDataException($"PNG filter {filter}"),
            });
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
