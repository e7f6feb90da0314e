namespace WsGen.Protocol;

/// <summary>
/// The server's side of the permessage-deflate negotiation (RFC 7692 section 7.1): the first acceptable offer wins;
/// an offer with an unknown, repeated or out-of-range parameter is skipped (not answered with an error), and so is one
/// that asks for something this side cannot do (a server window below the engine's smallest,
/// <see cref="DeflateEngines.MinWindowBits"/>): the answer never carries a larger value than the offer.
/// </summary>
internal static class DeflateNegotiation
{
    /// <summary>Answers the offers of <paramref name="head"/>'s <c>Sec-WebSocket-Extensions</c> headers.</summary>
    /// <param name="head">The upgrade request.</param>
    /// <param name="mode">Shared or Dedicated (Off never negotiates).</param>
    /// <param name="windowBits">Dedicated mode's window (9-15), the most this side uses or asks for.</param>
    /// <param name="minWindowBits">The smallest window this side's deflater can be limited to (9 for zlib, 15 for
    /// DeflateStream).</param>
    /// <param name="response">The agreed parameters, as the response states them.</param>
    /// <returns>False when no offer is acceptable (or none was made): the connection runs without the extension.</returns>
    public static bool TryAccept(in HttpRequestHead head, WebSocketCompression mode, int windowBits, int minWindowBits, out DeflateParameters response)
    {
        foreach (var value in head.Values(KnownHeader.SecWebSocketExtensions))
        {
            var list = value;
            while (DeflateParameters.NextElement(ref list, out var element))
            {
                if (DeflateParameters.TryParse(element, isResponse: false, out var offer) && TryAccept(offer, mode, windowBits, minWindowBits, out response))
                    return true;
            }
        }
        response = default;
        return false;
    }

    /// <summary>Answers one offer (see <see cref="TryAccept(in HttpRequestHead, WebSocketCompression, int, int, out DeflateParameters)"/>).</summary>
    public static bool TryAccept(in DeflateParameters offer, WebSocketCompression mode, int windowBits, int minWindowBits, out DeflateParameters response)
    {
        response = default;
        if (mode == WebSocketCompression.Off || (offer.ServerWindowBits != 0 && offer.ServerWindowBits < minWindowBits))
            return false;
        if (mode == WebSocketCompression.Shared)
        {
            // Every message on its own in both directions: one deflater per window size and one inflater (of the
            // largest window, which reads any smaller one) serve the whole loop.
            response = new DeflateParameters(true, true, offer.ServerWindowBits, 0);
            return true;
        }

        // A limit asked for is answered with this side's window when smaller, never below what the engine can make.
        int server = offer.ServerWindowBits == 0 ? 0 : Math.Max(Math.Min(offer.ServerWindowBits, windowBits), minWindowBits);
        int client = offer.ClientWindowBits switch
        {
            0 => 0,                                   // not offered: the client may use 15, and may not be told less
            -1 => windowBits,                         // offered without a value: ask for this side's window
            int bits => Math.Min(bits, windowBits),
        };
        response = new DeflateParameters(offer.ServerNoContextTakeover, offer.ClientNoContextTakeover, server, client);
        return true;
    }
}
