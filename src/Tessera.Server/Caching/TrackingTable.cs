using System.Text;
using Tessera.Core.Commands;
using Tessera.Core.Text;
using Tessera.Resp;
using Tessera.Server.Commands;
using Tessera.Server.Sessions;

namespace Tessera.Server.Caching;

/// <summary>
/// Server-assisted client-side caching (Redis's tracking.c). For clients in the default mode the table remembers,
/// per key read, the ids of the clients that may cache it; a change to the key sends each of them one
/// invalidation and forgets the key. Clients in BCAST mode subscribe to key prefixes instead: keys changed under
/// a prefix are gathered and sent together (<see cref="Broadcast"/>). Invalidations are RESP3 pushes, or messages
/// on <c>__redis__:invalidate</c> to a RESP2 client in pub/sub mode that others redirect to. Used under the
/// execution lock.
/// </summary>
internal sealed class TrackingTable(ClientRegistry clients, Config.NumberOption maxKeys)
{
    private static readonly byte[] InvalidateChannel = "__redis__:invalidate"u8.ToArray();

    private readonly Dictionary<byte[], HashSet<long>> _keys = new(ByteSequenceComparer.Instance);
    private readonly SortedDictionary<byte[], BroadcastPrefix> _prefixes = new(ByteOrder.Instance);
    private readonly List<int> _keyPositions = [];
    private readonly RespWriter _scratch = new();

    /// <summary>False until a client first enables tracking: until then no key change costs a lookup.</summary>
    private bool _used;
    private int _effortRounds;

    /// <summary>Clients with tracking on (INFO tracking_clients).</summary>
    public long Clients { get; private set; }

    /// <summary>Keys remembered (INFO tracking_total_keys).</summary>
    public long Keys => _keys.Count;

    /// <summary>Client ids remembered over all keys (INFO tracking_total_items).</summary>
    public long Items { get; private set; }

    /// <summary>BCAST prefixes subscribed to (INFO tracking_total_prefixes).</summary>
    public long Prefixes => _prefixes.Count;

    /// <summary>
    /// CLIENT TRACKING on: sets the mode (BCAST, OPTIN, OPTOUT, NOLOOP) and the redirection; in BCAST mode the
    /// prefixes are added to those the client has (the empty prefix when none is given).
    /// </summary>
    public void Enable(ClientSession client, TrackingFlags options, long redirect, List<byte[]> prefixes)
    {
        var tracking = client.Tracking ??= new ClientTracking();
        if (!tracking.IsOn)
        {
            Clients++;
        }
        tracking.Flags = (tracking.Flags | TrackingFlags.On)
            & ~(TrackingFlags.BrokenRedirect | TrackingFlags.Broadcast | TrackingFlags.OptIn | TrackingFlags.OptOut | TrackingFlags.NoLoop);
        tracking.Redirect = redirect;
        _used = true;
        if ((options & TrackingFlags.Broadcast) != 0)
        {
            tracking.Flags |= TrackingFlags.Broadcast;
            if (prefixes.Count == 0)
            {
                Subscribe(client, []);
            }
            foreach (var prefix in prefixes)
            {
                Subscribe(client, prefix);
            }
        }
        tracking.Flags |= options & (TrackingFlags.OptIn | TrackingFlags.OptOut | TrackingFlags.NoLoop);
    }

    /// <summary>
    /// CLIENT TRACKING off, RESET or a disconnection: the client leaves its prefixes; the ids it left in the table
    /// are dropped lazily, when their keys change.
    /// </summary>
    public void Disable(ClientSession client)
    {
        if (client.Tracking is not { } tracking)
        {
            return;
        }
        if ((tracking.Flags & TrackingFlags.Broadcast) != 0)
        {
            foreach (var prefix in tracking.Prefixes)
            {
                var state = _prefixes[prefix];
                state.Clients.Remove(client);
                if (state.Clients.Count == 0)
                {
                    _prefixes.Remove(prefix);
                }
            }
            tracking.Prefixes.Clear();
        }
        if (tracking.IsOn)
        {
            Clients--;
            tracking.Flags = TrackingFlags.None;
        }
    }

    /// <summary>
    /// Why <paramref name="prefixes"/> cannot be added in BCAST mode (two prefixes where one starts the other
    /// would send the same key twice), or null.
    /// </summary>
    public static string? PrefixCollision(ClientSession client, List<byte[]> prefixes)
    {
        for (var i = 0; i < prefixes.Count; i++)
        {
            if (client.Tracking is { } tracking)
            {
                foreach (var existing in tracking.Prefixes)
                {
                    if (Overlap(existing, prefixes[i]))
                    {
                        return $"ERR Prefix '{Text(prefixes[i])}' overlaps with an existing prefix '{Text(existing)}'. Prefixes for a single client must not overlap.";
                    }
                }
            }
            for (var j = i + 1; j < prefixes.Count; j++)
            {
                if (Overlap(prefixes[i], prefixes[j]))
                {
                    return $"ERR Prefix '{Text(prefixes[i])}' overlaps with another provided prefix '{Text(prefixes[j])}'. Prefixes for a single client must not overlap.";
                }
            }
        }
        return null;
    }

    /// <summary>
    /// After a read-only command of a tracking client in the default mode: remembers the keys of
    /// <paramref name="command"/> for it, unless OPTIN without CLIENT CACHING yes or OPTOUT with CLIENT CACHING no.
    /// </summary>
    public void Remember(ClientSession client, CommandInfo command, Request args)
    {
        var flags = client.Tracking!.Flags;
        var caching = (flags & TrackingFlags.Caching) != 0;
        if (((flags & TrackingFlags.OptIn) != 0 && !caching) || ((flags & TrackingFlags.OptOut) != 0 && caching))
        {
            return;
        }
        _keyPositions.Clear();
        KeyExtractor.GetKeys(command, args, 0, _keyPositions);
        // Shard channels look like keys to COMMAND; they are not cached data.
        if (_keyPositions.Count == 0 || (command.Flags & CommandFlags.PubSub) != 0)
        {
            return;
        }
        var lookup = _keys.GetAlternateLookup<ReadOnlySpan<byte>>();
        foreach (var position in _keyPositions)
        {
            var key = args[position];
            if (!lookup.TryGetValue(key, out var ids))
            {
                ids = [];
                _keys[key.ToArray()] = ids;
            }
            if (ids.Add(client.Id))
            {
                Items++;
            }
        }
    }

    /// <summary>
    /// A key changed (Redis's trackingInvalidateKey): every client remembered for it gets an invalidation and the
    /// key is forgotten; BCAST prefixes over it collect it, with <paramref name="modifiedBy"/> (null for an expiry
    /// or an eviction) as the client that changed it. The client whose command is being processed hears nothing
    /// with NOLOOP; otherwise, <paramref name="inCommand"/>, its invalidation waits until its reply is written.
    /// </summary>
    public void Invalidate(ClientSession? modifiedBy, ReadOnlySpan<byte> key, bool inCommand = true, bool broadcast = true)
    {
        if (!_used)
        {
            return;
        }
        if (broadcast && _prefixes.Count > 0)
        {
            CollectForBroadcast(modifiedBy, key);
        }
        var lookup = _keys.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (!lookup.TryGetValue(key, out var stored, out var ids))
        {
            return;
        }
        foreach (var id in ids)
        {
            if (clients.Find(id) is not { Tracking: { } tracking } target
                || !tracking.IsOn || (tracking.Flags & TrackingFlags.Broadcast) != 0)
            {
                continue;
            }
            var current = target == ClientSession.RunningOnThisThread;
            if (current && (tracking.Flags & TrackingFlags.NoLoop) != 0)
            {
                continue;
            }
            if (current && inCommand)
            {
                tracking.Pending.Add(stored);
            }
            else
            {
                Send(target, w => WriteKeyArray(w, stored));
            }
        }
        Items -= ids.Count;
        _keys.Remove(stored);
    }

    /// <summary>
    /// FLUSHALL, FLUSHDB, SWAPDB (Redis's trackingInvalidateKeysOnFlush): every tracking client gets one
    /// invalidation meaning "all keys" (a null), and the table is emptied.
    /// </summary>
    public void InvalidateAll()
    {
        if (Clients > 0)
        {
            foreach (var client in clients.All)
            {
                if (client.Tracking is not { IsOn: true } tracking)
                {
                    continue;
                }
                if (client == ClientSession.RunningOnThisThread)
                {
                    tracking.Pending.Add(null);
                }
                else
                {
                    SendAllKeys(client);
                }
            }
        }
        _keys.Clear();
        Items = 0;
    }

    /// <summary>After <paramref name="client"/>'s command (a transaction as a whole): the invalidations it caused itself.</summary>
    public void SendPending(ClientSession client)
    {
        if (client.Tracking is not { Pending.Count: > 0 } tracking)
        {
            return;
        }
        foreach (var key in tracking.Pending)
        {
            if (key is null)
            {
                SendAllKeys(client);
            }
            else
            {
                Send(client, w => WriteKeyArray(w, key));
            }
        }
        tracking.Pending.Clear();
    }

    /// <summary>
    /// Sends the keys changed under each BCAST prefix since the last call to that prefix's clients (a NOLOOP
    /// client without the keys it changed itself), as Redis does once per event loop turn.
    /// </summary>
    public void Broadcast()
    {
        if (Clients == 0)
        {
            return;
        }
        foreach (var state in _prefixes.Values)
        {
            if (state.Keys.Count == 0)
            {
                continue;
            }
            var all = KeyArray(state.Keys, exclude: null);
            foreach (var client in state.Clients)
            {
                var keys = (client.Tracking!.Flags & TrackingFlags.NoLoop) != 0 ? KeyArray(state.Keys, exclude: client) : all;
                if (keys is not null)
                {
                    Send(client, w => w.WriteRaw(keys));
                }
            }
            state.Keys.Clear();
        }
    }

    /// <summary>
    /// tracking-table-max-keys (Redis's trackingLimitUsedSlots): over the limit, keys are forgotten (their clients
    /// invalidated as if they changed), with more effort each time the table is still found over it.
    /// </summary>
    public void LimitKeys()
    {
        var max = maxKeys.Value;
        if (!_used || max == 0 || _keys.Count <= max)
        {
            _effortRounds = 0;
            return;
        }
        var effort = 100 * (_effortRounds + 1);
        while (effort-- > 0 && _keys.Count > 0)
        {
            Invalidate(null, _keys.Keys.First(), inCommand: false, broadcast: false);
            if (_keys.Count <= max)
            {
                _effortRounds = 0;
                return;
            }
        }
        _effortRounds++;
    }

    /// <summary>
    /// Writes one invalidation to <paramref name="client"/>'s receiver: itself (RESP3) or the client it
    /// redirects to (RESP3, or RESP2 in pub/sub mode as a message on __redis__:invalidate). A redirection to a
    /// client that has gone is reported to a RESP3 client as tracking-redir-broken.
    /// </summary>
    private void Send(ClientSession client, Action<RespWriter> writeKeys)
    {
        var tracking = client.Tracking!;
        var receiver = client;
        if (tracking.Redirect != 0)
        {
            if (clients.Find(tracking.Redirect) is not { } redirected)
            {
                tracking.Flags |= TrackingFlags.BrokenRedirect;
                if (client.Protocol == 3)
                {
                    var id = tracking.Redirect;
                    Write(client, w =>
                    {
                        w.WritePushHeader(2);
                        w.WriteBulk("tracking-redir-broken"u8);
                        w.WriteInteger(id);
                    });
                }
                return;
            }
            receiver = redirected;
        }
        if (receiver.Protocol == 3)
        {
            Write(receiver, w =>
            {
                w.WritePushHeader(2);
                w.WriteBulk("invalidate"u8);
                writeKeys(w);
            });
        }
        else if (receiver != client && receiver.InPubSubMode)
        {
            Write(receiver, w =>
            {
                w.WriteArrayHeader(3);
                w.WriteBulk("message"u8);
                w.WriteBulk(InvalidateChannel);
                writeKeys(w);
            });
        }
    }

    /// <summary>Into the output of the client running on this thread (before its reply, as Redis); to any other, remotely.</summary>
    private static void Write(ClientSession receiver, Action<RespWriter> write)
    {
        if (receiver == ClientSession.RunningOnThisThread)
        {
            write(ClientSession.RunningWriter);
        }
        else
        {
            receiver.WriteRemote(write);
        }
    }

    /// <summary>The invalidation of every key (after a flush): a null in the tracking client's own protocol, as Redis.</summary>
    private void SendAllKeys(ClientSession client)
    {
        var protocol = client.Protocol;
        Send(client, w => w.WriteLiteral(protocol == 3 ? "_\r\n"u8 : "$-1\r\n"u8));
    }

    private static void WriteKeyArray(RespWriter w, byte[] key)
    {
        w.WriteArrayHeader(1);
        w.WriteBulk(key);
    }

    /// <summary>The keys gathered for a prefix as one RESP array, without those <paramref name="exclude"/> changed last; null when none is left.</summary>
    private byte[]? KeyArray(SortedDictionary<byte[], ClientSession?> keys, ClientSession? exclude)
    {
        var count = exclude is null ? keys.Count : keys.Count(k => k.Value != exclude);
        if (count == 0)
        {
            return null;
        }
        _scratch.Clear();
        _scratch.WriteArrayHeader(count);
        foreach (var (key, changedBy) in keys)
        {
            if (exclude is null || changedBy != exclude)
            {
                _scratch.WriteBulk(key);
            }
        }
        var bytes = new byte[_scratch.Length];
        _scratch.CopyTo(bytes);
        return bytes;
    }

    private void CollectForBroadcast(ClientSession? modifiedBy, ReadOnlySpan<byte> key)
    {
        byte[]? copy = null;
        foreach (var (prefix, state) in _prefixes)
        {
            if (key.StartsWith(prefix))
            {
                // The last client to change the key is kept, for NOLOOP.
                state.Keys[copy ??= key.ToArray()] = modifiedBy;
            }
        }
    }

    private void Subscribe(ClientSession client, byte[] prefix)
    {
        if (!_prefixes.TryGetValue(prefix, out var state))
        {
            state = new BroadcastPrefix();
            _prefixes[prefix] = state;
        }
        if (!state.Clients.Contains(client))
        {
            state.Clients.Add(client);
            client.Tracking!.Prefixes.Add(prefix);
        }
    }

    private static bool Overlap(byte[] a, byte[] b) => a.AsSpan(0, Math.Min(a.Length, b.Length)).SequenceEqual(b.AsSpan(0, Math.Min(a.Length, b.Length)));

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>A BCAST prefix: its clients, and the keys changed under it since the last broadcast with who changed each last.</summary>
    private sealed class BroadcastPrefix
    {
        public List<ClientSession> Clients { get; } = [];

        public SortedDictionary<byte[], ClientSession?> Keys { get; } = new(ByteOrder.Instance);
    }
}
