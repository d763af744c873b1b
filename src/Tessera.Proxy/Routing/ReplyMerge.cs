namespace Tessera.Proxy.Routing;

/// <summary>How the replies of a request's fragments become the one reply the client gets.</summary>
public enum ReplyMerge
{
    /// <summary>One backend; its reply goes back as it is.</summary>
    Pass,

    /// <summary>MGET: the fragments' arrays, element by element in the order of the client's keys.</summary>
    KeysInOrder,

    /// <summary>DEL, UNLINK, TOUCH, EXISTS, DBSIZE: the integers added up.</summary>
    Sum,

    /// <summary>MSET, FLUSHALL, FLUSHDB: +OK when every fragment said OK, else the first failure.</summary>
    AllOk,

    /// <summary>KEYS: the arrays concatenated.</summary>
    Concatenate,

    /// <summary>SCAN on one backend: its cursor becomes the proxy's composite cursor.</summary>
    Scan,

    /// <summary>SCRIPT LOAD and friends sent to every backend: the first reply, when all agree.</summary>
    Same,
}
