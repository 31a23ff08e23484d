// Documents request bodies that an endpoint reads itself (to name faults precisely) in the OpenAPI
// document, without the framework's content-type matching answering 415 before the endpoint can.
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ContextLake.Gateway.OpenApi;

public sealed record DocumentedBody(Type Type);

public static class RequestBodyDocs
{
    public static RouteHandlerBuilder DocumentsBody<T>(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new DocumentedBody(typeof(T)));

    public static OpenApiOptions AddDocumentedBodies(this OpenApiOptions options) =>
        options.AddOperationTransformer(async (operation, context, cancel) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<DocumentedBody>().FirstOrDefault() is not { } body)
                return;
            var schema = await context.GetOrCreateSchemaAsync(body.Type, null, cancel);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } },
            };
        });
}
