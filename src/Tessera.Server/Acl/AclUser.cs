using System.Security.Cryptography;
using System.Text;

namespace Tessera.Server.Acl;

/// <summary>
/// An ACL user (Redis's user struct): on/off, nopass, the SHA-256 hashes of its passwords, and its selectors,
/// the first being the root one that plain rules change. Changed only under the execution lock.
/// </summary>
internal sealed class AclUser
{
    private readonly List<string> _passwords = [];
    private readonly List<AclSelector> _selectors = [];
    private bool _sanitizePayload;
    private bool _skipSanitizePayload;

    /// <summary>True for a user whose RESTOREs skip sanitize-dump-payload clients (ACL skip-sanitize-payload).</summary>
    public bool SkipsPayloadSanitization => _skipSanitizePayload;

    public AclUser(string name, bool allChannels)
    {
        Name = name;
        _selectors.Add(new AclSelector(allChannels));
    }

    public string Name { get; }

    public bool Enabled { get; private set; }

    public bool NoPass { get; private set; }

    /// <summary>The selector plain rules change; <c>(...)</c> rules add others.</summary>
    public AclSelector Root => _selectors[0];

    public IReadOnlyList<AclSelector> Selectors => _selectors;

    /// <summary>SHA-256 hex digests, as ACL GETUSER lists them.</summary>
    public IReadOnlyList<string> Passwords => _passwords;

    /// <summary>True when the user may run anything: the per-command check is skipped.</summary>
    public bool Unrestricted { get; private set; }

    /// <summary>Takes every attribute of <paramref name="source"/> (ACLCopyUser): SETUSER applies its rules to a copy first.</summary>
    public void CopyFrom(AclUser source)
    {
        _passwords.Clear();
        _passwords.AddRange(source._passwords);
        _selectors.Clear();
        _selectors.AddRange(source._selectors.Select(s => s.Clone()));
        Enabled = source.Enabled;
        NoPass = source.NoPass;
        _sanitizePayload = source._sanitizePayload;
        _skipSanitizePayload = source._skipSanitizePayload;
        Unrestricted = source.Unrestricted;
    }

    /// <summary>Applies one SETUSER rule (ACLSetUser); <paramref name="allChannels"/> is acl-pubsub-default.</summary>
    public AclRuleError Apply(string op, bool allChannels)
    {
        var error = ApplyRule(op, allChannels);
        Unrestricted = _selectors.Any(s => s.Unrestricted);
        return error;
    }

    private AclRuleError ApplyRule(string op, bool allChannels)
    {
        if (op.Length == 0)
        {
            return AclRuleError.None;
        }
        switch (op.ToLowerInvariant())
        {
            case "on":
                Enabled = true;
                return AclRuleError.None;
            case "off":
                Enabled = false;
                return AclRuleError.None;
            case "skip-sanitize-payload":
                (_skipSanitizePayload, _sanitizePayload) = (true, false);
                return AclRuleError.None;
            case "sanitize-payload":
                (_skipSanitizePayload, _sanitizePayload) = (false, true);
                return AclRuleError.None;
            case "nopass":
                NoPass = true;
                _passwords.Clear();
                return AclRuleError.None;
            case "resetpass":
                NoPass = false;
                _passwords.Clear();
                return AclRuleError.None;
            case "clearselectors":
                _selectors.RemoveRange(1, _selectors.Count - 1);
                return AclRuleError.None;
            case "reset":
                foreach (var rule in (string[])["resetpass", "resetkeys", "resetchannels", .. allChannels ? ["allchannels"] : Array.Empty<string>(), "off", "sanitize-payload", "clearselectors", "-@all"])
                {
                    ApplyRule(rule, allChannels);
                }
                return AclRuleError.None;
        }
        switch (op[0])
        {
            case '>' or '#':
                var added = op[0] == '>' ? Hash(op[1..]) : op[1..];
                if (op[0] == '#' && !IsHash(added))
                {
                    return AclRuleError.BadPasswordHash;
                }
                if (!_passwords.Contains(added))
                {
                    _passwords.Add(added);
                }
                NoPass = false;
                return AclRuleError.None;
            case '<' or '!':
                var removed = op[0] == '<' ? Hash(op[1..]) : op[1..];
                if (op[0] == '!' && !IsHash(removed))
                {
                    return AclRuleError.BadPasswordHash;
                }
                return _passwords.Remove(removed) ? AclRuleError.None : AclRuleError.NoSuchPassword;
            case '(' when op[^1] == ')':
                var selector = new AclSelector(allChannels);
                foreach (var rule in op[1..^1].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    var error = selector.Apply(rule);
                    if (error != AclRuleError.None)
                    {
                        return error;
                    }
                }
                _selectors.Add(selector);
                return AclRuleError.None;
            default:
                return Root.Apply(op);
        }
    }

    /// <summary>True when <paramref name="password"/> opens this user (any password for a nopass user).</summary>
    public bool Accepts(ReadOnlySpan<byte> password)
    {
        if (NoPass)
        {
            return true;
        }
        var hashed = Encoding.ASCII.GetBytes(Hash(password));
        return _passwords.Any(p => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(p), hashed));
    }

    /// <summary>The flags ACL GETUSER and ACL LIST show, in Redis's order.</summary>
    public IEnumerable<string> Flags()
    {
        if (Enabled)
        {
            yield return "on";
        }
        else
        {
            yield return "off";
        }
        if (NoPass)
        {
            yield return "nopass";
        }
        if (_skipSanitizePayload)
        {
            yield return "skip-sanitize-payload";
        }
        if (_sanitizePayload)
        {
            yield return "sanitize-payload";
        }
    }

    /// <summary>The user's rules as ACL LIST and ACL SAVE write them (ACLDescribeUser), without "user name".</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        foreach (var flag in Flags())
        {
            text.Append(flag).Append(' ');
        }
        foreach (var password in _passwords)
        {
            text.Append('#').Append(password).Append(' ');
        }
        text.Append(Root.Describe());
        foreach (var selector in _selectors.Skip(1))
        {
            text.Append(" (").Append(selector.Describe()).Append(')');
        }
        return text.ToString();
    }

    private static string Hash(string password) => Hash(Encoding.Latin1.GetBytes(password));

    private static string Hash(ReadOnlySpan<byte> password) => Convert.ToHexStringLower(SHA256.HashData(password));

    private static bool IsHash(string text) => text.Length == 64 && text.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));
}
