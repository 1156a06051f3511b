using System.Buffers.Text;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Remediation.ClusterSimulator.Json;

namespace Remediation.ClusterSimulator.Api;

/// <summary>
/// A list's <c>limit</c> and <c>continue</c>, as the API server reads them: at most <c>limit</c> items, then a
/// <c>metadata.continue</c> token from which the next request goes on (here the position of the last item returned,
/// namespace and name, base64url).
/// </summary>
internal static class ListPage
{
    public static (int Limit, string? After) Parse(IQueryCollection query)
    {
        var limit = int.MaxValue;
        if (query.TryGetValue("limit", out var text) && text.ToString() is { Length: > 0 } l)
        {
            if (!int.TryParse(l, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit < 0)
            {
                throw ApiException.BadRequest($"limit: Invalid value: \"{l}\": must be a non-negative integer");
            }
            limit = limit == 0 ? int.MaxValue : limit;
        }
        string? after = null;
        if (query.TryGetValue("continue", out var token) && token.ToString() is { Length: > 0 } t)
        {
            after = Decode(t) ?? throw ApiException.BadRequest("continue key is not valid: the token was not issued by this server");
        }
        return (limit, after);
    }

    /// <summary>Where an object stands in list order (namespace, then name).</summary>
    public static string Position(JsonObject o) => J.Namespace(o) + "/" + J.Name(o);

    public static string Token(JsonObject last) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes("1/" + Position(last)));

    private static string? Decode(string token)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            return text.StartsWith("1/", StringComparison.Ordinal) ? text[2..] : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
