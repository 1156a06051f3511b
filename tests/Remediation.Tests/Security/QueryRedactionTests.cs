using CsCheck;
using Remediation.Host;

namespace Remediation.Tests.Security;

/// <summary>
/// The request line's query string: the product's own parameters as sent, every other parameter (its name too) masked,
/// whatever the sender encodes, so no credential in a URL reaches a log line.
/// </summary>
public sealed class QueryRedactionTests
{
    [Fact]
    public void The_request_line_shows_the_products_own_parameters_and_masks_every_other()
    {
        Assert.Equal("?namespace=shop&***=***&since=1h", LogRedaction.Query("?namespace=shop&ACCESS_TOKEN=abc&since=1h"));
        Assert.Equal("?***=***&***=***&***=***", LogRedaction.Query("?acc%65ss_token=s1&access%5Ftoken=s2&x-functions-key=s3"));
        Assert.Equal("?***=***", LogRedaction.Query("?eyJhbGciOiJIUzI1NiJ9.e30.sig"));
        Assert.Equal("?***=***&limit=50", LogRedaction.Query("?sas=sv%3D1%26sig%3Dabc&limit=50"));
        Assert.Equal("?n%61mespace=shop", LogRedaction.Query("?n%61mespace=shop"));
        Assert.Equal("", LogRedaction.Query(""));
        Assert.Equal("", LogRedaction.Query("?"));
    }

    private static readonly string[] ProductNames = ["namespace", "workload", "state", "since", "limit", "continuation", "back", "verb"];

    private static readonly string[] OtherNames = ["access_token", "code", "sig", "auth", "bearer", "authorization", "x-functions-key", "sas", "token", "apikey", "q", ""];

    /// <summary>A secret: letters and digits behind a marker no generated product value contains.</summary>
    private static readonly Gen<string> Secret = Gen.String[Gen.Char.AlphaNumeric, 4, 40].Select(s => "Zq9" + s);

    /// <summary>Percent-encodes some of the characters of <paramref name="text"/> (chosen by <paramref name="mask"/>), as a sender may.</summary>
    private static string Encode(string text, uint mask) =>
        string.Concat(text.Select((c, i) => (mask >> (i % 32) & 1) == 1 ? $"%{(int)c:X2}" : c.ToString()));

    [Fact]
    public void A_secret_as_a_value_a_name_or_a_bare_parameter_never_reaches_the_request_line()
    {
        // One parameter: a product filter with a plain value, a secret under another name, a secret as the name, or bare.
        var parameter = Gen.Int[0, 3].SelectMany(kind => kind switch
        {
            0 => Gen.Select(Gen.OneOfConst(ProductNames), Gen.String[Gen.Char['a', 'z'], 0, 12]).Select(p => (Text: $"{p.Item1}={p.Item2}", Secret: (string?)null)),
            1 => Gen.Select(Gen.OneOfConst(OtherNames), Gen.UInt, Secret).Select(p => (Text: $"{Encode(p.Item1, p.Item2)}={p.Item3}", Secret: (string?)p.Item3)),
            2 => Gen.Select(Secret, Gen.String[Gen.Char['a', 'z'], 0, 8]).Select(p => (Text: $"{p.Item1}={p.Item2}", Secret: (string?)p.Item1)),
            _ => Secret.Select(s => (Text: s, Secret: (string?)s)),
        });
        parameter.Array[1, 6].Sample(parameters =>
        {
            var logged = LogRedaction.Query("?" + string.Join('&', parameters.Select(p => p.Text)));
            var shown = logged[1..].Split('&');
            Assert.Equal(parameters.Length, shown.Length);
            for (var i = 0; i < parameters.Length; i++)
            {
                Assert.Equal(parameters[i].Secret is null ? parameters[i].Text : "***=***", shown[i]);
            }
            Assert.DoesNotContain("Zq9", logged, StringComparison.Ordinal);
        }, iter: 5_000);
    }
}
