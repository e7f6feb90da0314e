using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace WsGen.Protocol;

/// <summary>
/// The RFC 6455 opening handshake (section 4): validating the client's upgrade request and writing the server's
/// answer (Handshake.Server.cs), writing the client's request and checking the server's answer (Handshake.Client.cs).
/// Pure functions over bytes: no I/O.
/// </summary>
internal static partial class Handshake
{
    /// <summary>The only WebSocket version this library speaks, as sent in Sec-WebSocket-Version.</summary>
    public const string SupportedVersion = "13";

    /// <summary>The length of a Sec-WebSocket-Key: the base64 of 16 bytes.</summary>
    public const int KeyLength = 24;

    /// <summary>The length of a Sec-WebSocket-Accept value: the base64 of a 20-byte SHA-1 hash.</summary>
    public const int AcceptLength = 28;

    /// <summary>The GUID RFC 6455 section 1.3 appends to the key before hashing.</summary>
    private static ReadOnlySpan<byte> KeyGuid => "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8;

    /// <summary>
    /// Computes Sec-WebSocket-Accept: base64(SHA-1(key + GUID)), as 28 ASCII bytes.
    /// </summary>
    /// <param name="key">The Sec-WebSocket-Key value as sent (its ASCII bytes, without surrounding whitespace).</param>
    /// <param name="dest28">Receives the 28 bytes.</param>
    public static void ComputeAccept(ReadOnlySpan<byte> key, Span<byte> dest28)
    {
        if (dest28.Length < AcceptLength)
        {
            throw new ArgumentException($"The destination needs {AcceptLength} bytes.", nameof(dest28));
        }

        int length = key.Length + KeyGuid.Length;
        byte[]? rented = null;
        Span<byte> input = length <= 128 ? stackalloc byte[128] : (rented = ArrayPool<byte>.Shared.Rent(length));
        key.CopyTo(input);
        KeyGuid.CopyTo(input[key.Length..]);

        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(input[..length], hash);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        Base64.EncodeToUtf8(hash, dest28, out _, out _);
    }

    /// <summary>True when <paramref name="key"/> is a valid Sec-WebSocket-Key: canonical base64 (24 chars, no
    /// whitespace) of exactly 16 bytes.</summary>
    public static bool IsValidKey(ReadOnlySpan<char> key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return key.Length == KeyLength
            && Convert.TryFromBase64Chars(key, decoded, out int written)
            && written == 16;
    }

    /// <inheritdoc cref="IsValidKey(ReadOnlySpan{char})"/>
    public static bool IsValidKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeyLength)
        {
            return false;
        }

        Span<char> chars = stackalloc char[KeyLength];
        Encoding.Latin1.GetChars(key, chars);
        return IsValidKey(chars);
    }

    /// <summary>Computes the Sec-WebSocket-Accept of a key given as a string of at most 64 ASCII chars.</summary>
    private static void ComputeAccept(string key, Span<byte> dest28)
    {
        Span<byte> keyBytes = stackalloc byte[64];
        int written = Encoding.ASCII.GetBytes(key, keyBytes);
        ComputeAccept(keyBytes[..written], dest28);
    }
}
