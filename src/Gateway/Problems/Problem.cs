// Every refusal the gateway gives: an RFC 7807 problem body whose detail says what was wrong and where.
namespace ContextLake.Gateway.Problems;

public sealed record Problem(int Status, string Title, string Detail)
{
    public IResult ToResult() => Results.Problem(detail: Detail, statusCode: Status, title: Title);

    public static Problem BadRequest(string title, string detail) => new(StatusCodes.Status400BadRequest, title, detail);
}
