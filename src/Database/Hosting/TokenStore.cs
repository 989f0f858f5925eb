using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace DataPlane.Database.Hosting;

/// <summary>
/// A database's tokens, stored as SHA-256 hashes. A database without tokens is open to anyone who
/// can reach the server (the embedded default); once it has one, every request needs a token.
/// </summary>
internal sealed class TokenStore
{
    private sealed record TokenRecord(string Id, string Hash, Access Access);

    private readonly string _path;
    private readonly object _gate = new();
    private List<TokenRecord> _tokens;

    public TokenStore(string path)
    {
        _path = path;
        _tokens = File.Exists(path) ? JsonSerializer.Deserialize<List<TokenRecord>>(File.ReadAllText(path)) ?? [] : [];
    }

    public bool IsOpen { get { lock (_gate) return _tokens.Count == 0; } }

    /// <summary>Issues a new token; the secret is returned once and only its hash is kept.</summary>
    public (string Id, string Token) Issue(Access access)
    {
        string secret = "dpdb_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        lock (_gate)
        {
            _tokens = [.. _tokens, new TokenRecord(id, Hash(secret), access)];
            Save();
        }
        return (id, secret);
    }

    public bool Revoke(string id)
    {
        lock (_gate)
        {
            int before = _tokens.Count;
            _tokens = [.. _tokens.Where(t => t.Id != id)];
            if (_tokens.Count == before) return false;
            Save();
            return true;
        }
    }

    public Access Check(string? token)
    {
        lock (_gate)
        {
            if (_tokens.Count == 0) return Access.ReadWrite;
            if (string.IsNullOrEmpty(token)) return Access.None;
            var hash = Hash(token);
            foreach (var t in _tokens)
            {
                if (CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(t.Hash), Encoding.ASCII.GetBytes(hash))) return t.Access;
            }
            return Access.None;
        }
    }

    private void Save()
    {
        string temp = _path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(_tokens));
        File.Move(temp, _path, overwrite: true);
    }

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
