using Tessera.Resp;
using Tessera.Server.Sessions;

namespace Tessera.Server.Commands;

/// <summary>Options of SET and GETEX (NX, XX, GET, KEEPTTL, PERSIST, EX, PX, EXAT, PXAT).</summary>
[Flags]
internal enum SetFlags
{
    None = 0,
    Nx = 1 << 0,
    Xx = 1 << 1,
    Get = 1 << 2,
    KeepTtl = 1 << 3,
    Persist = 1 << 4,
    Ex = 1 << 5,
    Px = 1 << 6,
    Exat = 1 << 7,
    Pxat = 1 << 8,
    AnyExpire = Ex | Px | Exat | Pxat,
}

/// <summary>Parsed SET/GETEX options, following Redis's parseExtendedStringArgumentsOrReply.</summary>
internal struct SetOptions
{
    public SetFlags Flags;

    /// <summary>Index of the TTL argument, or 0.</summary>
    public int ExpireArgument;

    /// <summary>
    /// Parses options from argument <paramref name="first"/> on; replies "syntax error" for an unknown, repeated
    /// or conflicting option. <paramref name="forGetEx"/> allows PERSIST and refuses NX, XX, GET and KEEPTTL.
    /// </summary>
    public static bool TryParse(CommandContext c, int first, bool forGetEx, out SetOptions options)
    {
        options = default;
        for (var j = first; j < c.ArgCount; j++)
        {
            var hasNext = j < c.ArgCount - 1;
            var flags = options.Flags;
            if (!forGetEx && c.ArgIs(j, "nx"u8) && (flags & SetFlags.Xx) == 0)
            {
                options.Flags |= SetFlags.Nx;
            }
            else if (!forGetEx && c.ArgIs(j, "xx"u8) && (flags & SetFlags.Nx) == 0)
            {
                options.Flags |= SetFlags.Xx;
            }
            else if (!forGetEx && c.ArgIs(j, "get"u8))
            {
                options.Flags |= SetFlags.Get;
            }
            else if (!forGetEx && c.ArgIs(j, "keepttl"u8) && (flags & (SetFlags.Persist | SetFlags.AnyExpire)) == 0)
            {
                options.Flags |= SetFlags.KeepTtl;
            }
            else if (forGetEx && c.ArgIs(j, "persist"u8) && (flags & (SetFlags.AnyExpire | SetFlags.KeepTtl)) == 0)
            {
                options.Flags |= SetFlags.Persist;
            }
            else if (hasNext && TryExpireOption(c, j, flags, out var expireFlag))
            {
                options.Flags |= expireFlag;
                options.ExpireArgument = ++j;
            }
            else
            {
                c.SyntaxError();
                return false;
            }
        }
        return true;
    }

    private static bool TryExpireOption(CommandContext c, int j, SetFlags flags, out SetFlags expireFlag)
    {
        expireFlag = c.ArgIs(j, "ex"u8) ? SetFlags.Ex
            : c.ArgIs(j, "px"u8) ? SetFlags.Px
            : c.ArgIs(j, "exat"u8) ? SetFlags.Exat
            : c.ArgIs(j, "pxat"u8) ? SetFlags.Pxat
            : SetFlags.None;
        // One kind of TTL option (repeating the same one is allowed, the last wins), and none with KEEPTTL or PERSIST.
        var conflicting = SetFlags.KeepTtl | SetFlags.Persist | (SetFlags.AnyExpire & ~expireFlag);
        return expireFlag != SetFlags.None && (flags & conflicting) == 0;
    }

    /// <summary>
    /// The absolute expiry in Unix ms for the TTL option (0 without one), as Redis's getExpireMillisecondsOrReply:
    /// a non-integer replies "not an integer", a non-positive or overflowing one "invalid expire time".
    /// </summary>
    public readonly bool TryResolveExpiry(CommandContext c, out long expireAt)
    {
        expireAt = 0;
        if (ExpireArgument == 0)
        {
            return true;
        }
        if (!RedisInteger.TryParse(c.Arg(ExpireArgument), out var value))
        {
            c.NotInteger();
            return false;
        }
        var seconds = (Flags & (SetFlags.Ex | SetFlags.Exat)) != 0;
        if (value <= 0 || (seconds && value > long.MaxValue / 1000))
        {
            c.Error(Replies.InvalidExpireTime(c.CommandName));
            return false;
        }
        if (seconds)
        {
            value *= 1000;
        }
        if ((Flags & (SetFlags.Ex | SetFlags.Px)) != 0)
        {
            value = unchecked(value + c.Keyspace.Now);
        }
        if (value <= 0)
        {
            c.Error(Replies.InvalidExpireTime(c.CommandName));
            return false;
        }
        expireAt = value;
        return true;
    }
}
