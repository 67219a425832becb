using System.Security.Claims;
using Recorder.Client.Contracts;
using Recorder.Data.Interactions;
using Recorder.Hub.Delivery;

namespace Recorder.Hub.Rest;

/// <summary>
/// The REST side, authenticated like the hub (<c>user_id</c>/<c>token</c> in the query or the <c>X-Recorder-*</c>
/// headers): the caller's interactions and their raws as the hub sends them, and the OpenAPI document at
/// <c>/openapi/v1.json</c>.
/// </summary>
public static class RestExtensions
{
    public const string InteractionsPath = "/api/interactions";
    public const int MaxLimit = 500;
    public const int DefaultLimit = 50;

    public static IHostApplicationBuilder AddRecorderRest(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpenApi();
        return builder;
    }

    public static IEndpointRouteBuilder MapRecorderRest(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi();
        app.MapGet(InteractionsPath, ListAsync).RequireAuthorization()
            .Produces<InteractionsPage>().Produces(StatusCodes.Status400BadRequest).Produces(StatusCodes.Status401Unauthorized);
        app.MapGet(InteractionsPath + "/{id}/raws", RawsAsync).RequireAuthorization()
            .Produces<IReadOnlyList<RecorderEnvelope>>().Produces(StatusCodes.Status400BadRequest)
            .Produces(StatusCodes.Status401Unauthorized).Produces(StatusCodes.Status404NotFound);
        return app;
    }

    /// <summary>
    /// <c>GET /api/interactions?cursor=&amp;limit=</c>: the caller's interactions, newest first, a page at a time (keyset:
    /// <c>cursor</c> is the <c>next</c> of the page before).
    /// </summary>
    private static async Task<IResult> ListAsync(HttpContext context, InteractionRepository interactions, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > MaxLimit)
        {
            return Error(StatusCodes.Status400BadRequest, $"limit must be between 1 and {MaxLimit}, not {limit}");
        }

        var before = cursor is null ? null : InteractionsCursor.Decode(cursor);
        if (cursor is not null && before is null)
        {
            return Error(StatusCodes.Status400BadRequest, "cursor is not one this API gave: pass the next of a page as it is, or no cursor for the first page");
        }

        var take = limit ?? DefaultLimit;
        var rows = await interactions.ListByUserAsync(UserId(context), before, take + 1, cancellationToken);
        var page = rows.Take(take).Select(r => new InteractionSummary(
            r.InteractionId, r.CreateTime, r.UpdateTime, r.Description, r.RecorderRootDir, r.Status, r.Message, r.LastSeq)).ToList();
        var next = rows.Count > take ? InteractionsCursor.Encode(rows[take - 1].CreateTime, rows[take - 1].InteractionId) : null;
        return Results.Ok(new InteractionsPage(page, take, next));
    }

    /// <summary><c>GET /api/interactions/{id}/raws?after_seq=&amp;limit=</c>: the envelopes of the raws after <c>after_seq</c>, as the hub sends them.</summary>
    private static async Task<IResult> RawsAsync(
        HttpContext context, string id, long? after_seq, int? limit, InteractionRepository interactions, RawEnvelopes envelopes, CancellationToken cancellationToken)
    {
        if (after_seq is < 0)
        {
            return Error(StatusCodes.Status400BadRequest, $"after_seq must be 0 or more, not {after_seq}");
        }

        if (limit is < 1 or > MaxLimit)
        {
            return Error(StatusCodes.Status400BadRequest, $"limit must be between 1 and {MaxLimit}, not {limit}");
        }

        var interaction = await interactions.FindAsync(id, cancellationToken);
        if (interaction is null || interaction.IsDeleted || interaction.UserId != UserId(context))
        {
            // Another user's interaction is not distinguished from a missing one.
            return Error(StatusCodes.Status404NotFound, $"no interaction {id} of yours");
        }

        return Results.Ok(await envelopes.ReadAsync(id, after_seq ?? 0, limit ?? DefaultLimit, cancellationToken));
    }

    private static string UserId(HttpContext context) => context.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "";

    private static IResult Error(int status, string message) => Results.Json(new { error = message }, statusCode: status);
}
