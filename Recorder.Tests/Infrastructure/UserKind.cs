namespace Recorder.Tests.Infrastructure;

/// <summary>The users the refusal tests connect as (see <see cref="HubServer.UserAsync"/>).</summary>
public enum UserKind { Valid, WrongToken, Unknown, TooLongId, Deleted, NotBeta, Unavailable }
