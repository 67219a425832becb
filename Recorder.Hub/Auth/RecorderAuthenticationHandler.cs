using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Recorder.Hub.Auth;

/// <summary>
/// Authenticates a connect request by <c>user_id</c> and <c>token</c>. A refusal keeps the original's wording;
/// the hub reads it back with <see cref="FailureOf"/> and sends it as a <c>failed</c> envelope.
/// </summary>
public sealed partial class RecorderAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    UserCheck users)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "RecorderToken";
    public const string UserNotExist = UserCheck.NotExist;
    public const string UserNotAvailable = UserCheck.NotAvailable;
    private const string FailureKey = "Recorder.AuthFailure";

    /// <summary>Why the request was not authenticated, in the words the client is told.</summary>
    public static string FailureOf(HttpContext? context) =>
        context?.Items[FailureKey] as string ?? UserNotExist;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var parameters = ConnectParameters.Of(Context);
        if (parameters.UserId is null && parameters.Token is null)
        {
            // Anonymous (health checks, the demo page): nothing to look up. The hub and the API still refuse it.
            return AuthenticateResult.NoResult();
        }

        if (Context.GetEndpoint() is not { } endpoint
            || (endpoint.Metadata.GetMetadata<HubMetadata>() is null && endpoint.Metadata.GetMetadata<IAuthorizeData>() is null))
        {
            // Not the hub and nothing that needs a user (health, static files, a 404): no lookup, whatever the query says.
            return AuthenticateResult.NoResult();
        }

        if (Request.Path.Value?.EndsWith("/negotiate", StringComparison.Ordinal) == true)
        {
            // SignalR's negotiate only hands out a connection token; the user is looked up once, when the transport
            // connects (and a refusal is sent there as a failed envelope).
            return AuthenticateResult.NoResult();
        }

        var failure = await users.FailureAsync(parameters.UserId, parameters.Token, UserNotAvailable, Context.Connection.RemoteIpAddress, Context.RequestAborted);
        if (failure is not null)
        {
            Context.Items[FailureKey] = failure;
            Log.Refused(Logger, parameters.UserId ?? "(none)", failure);
            return AuthenticateResult.Fail(failure);
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, parameters.UserId!)], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    /// <summary>A refused HTTP request gets 401 with the reason, e.g. <c>{"error":"user is not exist!"}</c>.</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        return Response.WriteAsJsonAsync(new { error = FailureOf(Context) }, Context.RequestAborted);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Refused user {UserId}: {Reason}")]
        public static partial void Refused(ILogger logger, string userId, string reason);
    }
}
