using System.Text.RegularExpressions;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Infra;

/// <summary>Scripts never end processes by name: a name matches whatever else runs on the machine.</summary>
public sealed partial class ScriptHygieneTests
{
    [GeneratedRegex(@"\b(pkill|killall)\b")]
    private static partial Regex KillByName();

    public static TheoryData<string> Scripts()
    {
        var data = new TheoryData<string>();
        foreach (var dir in (string[])["scripts", ".ci"])
        {
            foreach (var file in Directory.GetFiles(Path.Combine(RepoPaths.Root, dir), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetRelativePath(RepoPaths.Root, file));
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Script_does_not_end_processes_by_name(string script)
    {
        var lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, script));
        var offending = lines.Select((line, i) => (Line: i + 1, Text: line)).Where(l => KillByName().IsMatch(l.Text)).ToList();
        Assert.True(offending.Count == 0, $"{script} ends processes by name: {string.Join("; ", offending.Select(o => $"line {o.Line}: {o.Text.Trim()}"))}");
    }

    [Fact]
    public void Install_deps_keeps_packaged_services_from_starting_instead_of_stopping_them()
    {
        var text = File.ReadAllText(Path.Combine(RepoPaths.Root, "scripts", "install-deps.sh"));
        Assert.Contains("/usr/sbin/policy-rc.d", text, StringComparison.Ordinal);
        Assert.Contains("exit 101", text, StringComparison.Ordinal);
        Assert.DoesNotContain("systemctl stop", text, StringComparison.Ordinal);
        Assert.DoesNotMatch(KillByName(), text);
        // The policy-rc.d is in place before the packages are installed and removed after.
        var written = text.IndexOf("tee \"$policy_rc_d\"", StringComparison.Ordinal);
        var install = text.IndexOf("apt_install \"${need[@]}\"", StringComparison.Ordinal);
        var removed = text.IndexOf("remove_policy_rc_d\n", install, StringComparison.Ordinal);
        Assert.True(written > 0 && install > written && removed > install, "policy-rc.d must be written before apt-get install and removed after it");
    }
}
