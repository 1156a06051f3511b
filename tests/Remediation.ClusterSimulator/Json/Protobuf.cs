using System.Text;

namespace Remediation.ClusterSimulator.Json;

/// <summary>
/// Just enough of the protobuf wire format to read the Kubernetes protobuf envelope (<c>k8s\0</c> + runtime.Unknown)
/// and the string fields of small messages, such as the SelfSubjectAccessReview kubectl posts for <c>auth can-i</c>.
/// </summary>
internal static class Protobuf
{
    private static readonly byte[] Magic = [0x6b, 0x38, 0x73, 0x00];

    /// <summary>The serialized object inside a Kubernetes protobuf envelope (runtime.Unknown field 2, "raw").</summary>
    public static ReadOnlyMemory<byte> Unwrap(ReadOnlyMemory<byte> body)
    {
        if (body.Length < Magic.Length || !body.Span[..Magic.Length].SequenceEqual(Magic))
        {
            throw new FormatException("the protobuf body does not start with the Kubernetes envelope");
        }

        return Field(body[Magic.Length..], 2) ?? ReadOnlyMemory<byte>.Empty;
    }

    /// <summary>The last length-delimited field with this number (a nested message or a string), or null.</summary>
    public static ReadOnlyMemory<byte>? Field(ReadOnlyMemory<byte> message, int number)
    {
        ReadOnlyMemory<byte>? found = null;
        var span = message.Span;
        var at = 0;
        while (at < span.Length)
        {
            var key = Varint(span, ref at);
            var wireType = (int)(key & 7);
            switch (wireType)
            {
                case 0:
                    Varint(span, ref at);
                    break;
                case 1:
                    at += 8;
                    break;
                case 5:
                    at += 4;
                    break;
                case 2:
                    var length = checked((int)Varint(span, ref at));
                    if (at + length > span.Length)
                    {
                        throw new FormatException("a protobuf field runs past the end of the message");
                    }

                    if ((int)(key >> 3) == number)
                    {
                        found = message.Slice(at, length);
                    }

                    at += length;
                    break;
                default:
                    throw new FormatException($"unsupported protobuf wire type {wireType}");
            }
        }

        return found;
    }

    /// <summary>The string field at this path of nested field numbers, or null when any step is missing.</summary>
    public static string? String(ReadOnlyMemory<byte> message, params int[] path)
    {
        ReadOnlyMemory<byte>? current = message;
        foreach (var number in path)
        {
            current = current is { } m ? Field(m, number) : null;
        }

        return current is { } value ? Encoding.UTF8.GetString(value.Span) : null;
    }

    private static ulong Varint(ReadOnlySpan<byte> span, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (at >= span.Length)
            {
                throw new FormatException("a protobuf varint runs past the end of the message");
            }

            var b = span[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new FormatException("a protobuf varint is longer than 10 bytes");
    }
}
