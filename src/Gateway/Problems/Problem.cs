// Every refusal the gateway gives: an RFC 7807 problem body whose detail says what was wrong and where.
namespace ContextLake.Gateway.Problems;

public sealed record Problem(int Status, string Title, string Detail)
{
    public IResult ToResult() => Results.Problem(detail: Detail, statusCode: Status, title: Title);

    public static Problem BadRequest(string title, string detail) => new(StatusCodes.Status400BadRequest, title, detail);

    /// <summary>What a client sent, cut to 80 characters for quoting in an error.</summary>
    public static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";

    /// <summary>A body that is not JSON: where (line, byte) and why.</summary>
    public static Problem MalformedJson(System.Text.Json.JsonException ex)
    {
        var cut = ex.Message.IndexOf(" Path:", StringComparison.Ordinal);
        var reason = cut > 0 ? ex.Message[..cut] : ex.Message;
        return BadRequest("Malformed JSON",
            $"the body is not valid JSON at line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}: {reason}");
    }
}
