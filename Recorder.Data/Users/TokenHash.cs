using System.Security.Cryptography;
using System.Text;

namespace Recorder.Data.Users;

/// <summary>Tokens are stored as their SHA-256 and compared in constant time; the plain token is never kept.</summary>
public static class TokenHash
{
    public static byte[] Compute(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public static bool Matches(string token, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(Compute(token), storedHash);
}
