// The /admin/… group: cluster membership and sharding, behind the admin token (or loopback-only without one).
// Epochs, views and connectors are read and changed through their /v1 endpoints, which the contextlake tool calls too.
namespace ContextLake.Gateway.Admin;

public static class AdminEndpoints
{
    public static void MapAdminEndpoints(this IEndpointRouteBuilder app, AdminOptions options)
    {
        var admin = app.MapGroup("/admin").RequireAdmin(options).WithTags("Admin");
        admin.MapClusterAdmin();
        admin.MapShardingAdmin();
    }
}
