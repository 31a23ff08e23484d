// The one check the hand-written row converters share: the reader stands on the token a format expects there,
// or the row is refused naming what was expected and what came.
using System.Text.Json;

namespace ContextLake.Platform.Serialization;

public static class JsonTokens
{
    public static void Expect(ref Utf8JsonReader reader, JsonTokenType token, string what)
    {
        if (reader.TokenType != token) throw new JsonException($"expected {what}, found {reader.TokenType}");
    }
}
