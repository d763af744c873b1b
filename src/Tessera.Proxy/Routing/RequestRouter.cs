using System.Text;
using Tessera.Core.Commands;
using Tessera.Core.Distribution;
using Tessera.Core.Hashing;
using Tessera.Core.Threading;
using Tessera.Proxy.Networking;
using Tessera.Proxy.Pools;
using Tessera.Proxy.Protocol;
using Tessera.Resp;

namespace Tessera.Proxy.Routing;

/// <summary>
/// Turns a client's requests into backend requests and backend replies into client replies, for one proxy thread:
/// parses, checks what Redis checks first (unknown command, arity, auth), then routes by <see cref="CommandRoute"/>.
/// A single-backend request is forwarded as the client's own bytes; split and fanned-out ones are re-encoded.
/// </summary>
internal sealed class RequestRouter(ProxyLoop loop, BackendConnections backends, PendingReplyPool replies)
{
    private static readonly CommandInfo PublishCommand = CommandTable.Redis.Find("publish")!;

    /// <summary>MOVED/ASK redirections followed for one request (fragment) before its error goes to the client.</summary>
    private const int MaxRedirects = 5;

    /// <summary>Fragment number per backend (or per hash slot in front of a cluster), -1 when none yet.</summary>
    private readonly int[] _fragmentOf = CreateFragmentIndex();
    private readonly List<int> _touchedGroups = [];
    private readonly List<int> _fragmentServers = [];
    private readonly List<int> _keyFragments = [];
    private readonly RespWriter _scratch = new();
    private byte[] _scratchBytes = new byte[1024];
    private readonly List<List<int>> _fragmentKeys = [];

    /// <summary>The loop's connections to the backends, where requests go.</summary>
    public BackendConnections Backends => backends;

    /// <summary>Handles every complete request in the client's input.</summary>
    public void ProcessInput(ClientConnection client)
    {
        var input = client.Input;
        while (client.WantsInput && !input.IsEmpty)
        {
            var status = client.Parser.Parse(input.Bytes, input.Start, input.End, client.Request, out var consumed);
            switch (status)
            {
                case ParseStatus.Incomplete:
                    return;
                case ParseStatus.Skipped:
                    input.Consume(consumed);
                    continue;
                case ParseStatus.Error:
                    Local(client).WriteError($"ERR Protocol error: {client.Parser.Error}");
                    Interlocked.Increment(ref client.Pool.Stats.ClientErr);
                    client.CloseAfterReplies = true;
                    input.Discard();
                    return;
            }
            Dispatch(client, input.Bytes.AsSpan(input.Start, consumed));
            input.Consume(consumed);
        }
    }

    /// <summary>Routes one parsed request; <paramref name="raw"/> is its bytes as the client sent them.</summary>
    private void Dispatch(ClientConnection client, ReadOnlySpan<byte> raw)
    {
        var request = client.Request;
        var command = CommandTable.Redis.Find(request[0]);
        if (command is not null && command.HasSubcommands && request.Count > 1)
        {
            command = command.FindSubcommand(request[1]) ?? command;
        }
        if (command is null)
        {
            if (Ascii.EqualsIgnoreCase(request[0], "PROXY"u8))
            {
                if (client.Authenticated)
                {
                    AdminCommand(client);
                }
                else
                {
                    Local(client).WriteError("NOAUTH Authentication required.");
                }
                return;
            }
            Local(client).WriteError(CommandReplies.UnknownCommandError(request));
            return;
        }
        if (!command.AcceptsArgumentCount(request.Count))
        {
            Local(client).WriteError($"ERR wrong number of arguments for '{command.FullName}' command");
            return;
        }
        if (!client.Authenticated && command.Name is not ("auth" or "hello" or "quit"))
        {
            Local(client).WriteError("NOAUTH Authentication required.");
            return;
        }
        var route = CommandRoute.Of(command);
        switch (route.Kind)
        {
            case RouteKind.ByKeys:
                ForwardByKeys(client, command, raw);
                break;
            case RouteKind.Fragmented:
                Fragment(client, command, route);
                break;
            case RouteKind.FanOut:
                FanOut(client, route.Merge, raw);
                break;
            case RouteKind.Scan:
                ScanCursor.Forward(this, client);
                break;
            case RouteKind.AnyBackend:
                ForwardToAny(client, raw);
                break;
            case RouteKind.Local:
                LocalCommands.Answer(this, client, command);
                break;
            default:
                Local(client).WriteError($"ERR command '{command.FullName}' is not supported by the proxy");
                break;
        }
    }

    /// <summary>
    /// PROXY RELOAD: the admin twin of SIGHUP. The reload waits for every loop (this one included), so it runs on
    /// the thread pool and its outcome comes back to this loop as the client's reply, in order.
    /// </summary>
    private void AdminCommand(ClientConnection client)
    {
        var request = client.Request;
        if (request.Count != 2 || !Ascii.EqualsIgnoreCase(request[1], "RELOAD"u8))
        {
            Local(client).WriteError("ERR unknown subcommand or wrong number of arguments for 'proxy'. Try PROXY RELOAD.");
            return;
        }
        var reply = Begin(client, ReplyMerge.Pass, 1);
        GuardedThread.Queue(() =>
        {
            string outcome;
            try
            {
                outcome = loop.Server.TryReload(out var report)
                    ? "+" + report.ReplaceLineEndings(" ") + "\r\n"
                    : "-ERR " + report.ReplaceLineEndings(" ") + "\r\n";
            }
            catch (Exception e)
            {
                // The client still gets an answer, and the running configuration stays.
                ProxyLog.Warning($"reload failed: {e}");
                outcome = "-ERR reload failed: " + e.Message.ReplaceLineEndings(" ") + "\r\n";
            }
            loop.Post(() =>
            {
                reply.Deliver(0, Encoding.UTF8.GetBytes(outcome));
                AfterDelivery(reply);
            });
        }, e => ProxyLog.Warning($"reload failed: {e}"));
    }

    /// <summary>Starts a reply the proxy writes itself, in order behind the replies still owed.</summary>
    public RespWriter Local(ClientConnection client)
    {
        if (client.PendingCount == 0)
        {
            return client.Output;
        }
        var reply = replies.Rent();
        reply.StartLocal(client);
        client.Enqueue(reply);
        return reply.Reply;
    }

    private void ForwardByKeys(ClientConnection client, CommandInfo command, ReadOnlySpan<byte> raw)
    {
        var request = client.Request;
        var pool = client.Pool;
        int server;
        if (command.SingleKeyPosition > 0 || command == PublishCommand)
        {
            server = pool.Locate(request[command == PublishCommand ? 1 : command.SingleKeyPosition]);
        }
        else
        {
            var keys = client.Keys;
            keys.Clear();
            if (KeyExtractor.GetKeys(command, request, 0, keys) == 0)
            {
                // EVAL/FCALL with no keys: any backend will do, as Redis Cluster runs them on whichever node is asked.
                ForwardToAny(client, raw);
                return;
            }
            server = pool.Locate(request[keys[0]]);
            for (var i = 1; i < keys.Count; i++)
            {
                if (pool.Locate(request[keys[i]]) != server)
                {
                    Local(client).WriteError("CROSSSLOT Keys in request don't hash to the same backend");
                    return;
                }
            }
        }
        if (server < 0)
        {
            NoLiveServer(client);
            return;
        }
        var reply = Begin(client, ReplyMerge.Pass, 1);
        SendRaw(client, reply, 0, server, raw);
    }

    private void ForwardToAny(ClientConnection client, ReadOnlySpan<byte> raw)
    {
        var server = client.Pool.Locate([]);
        if (server < 0)
        {
            NoLiveServer(client);
            return;
        }
        SendRaw(client, Begin(client, ReplyMerge.Pass, 1), 0, server, raw);
    }

    /// <summary>MGET/MSET/DEL/...: one request per backend with that backend's keys, in the client's order.</summary>
    private void Fragment(ClientConnection client, CommandInfo command, CommandRoute route)
    {
        var request = client.Request;
        var pool = client.Pool;
        var step = route.KeyStep;
        if ((request.Count - 1) % step != 0)
        {
            Local(client).WriteError($"ERR wrong number of arguments for '{command.FullName}' command");
            return;
        }
        // Fragments group keys by backend; in front of a cluster by hash slot, since a cluster node refuses a
        // multi-key command whose keys are in different slots.
        var bySlot = pool.Cluster is not null;
        var servers = _fragmentServers;
        servers.Clear();
        _keyFragments.Clear();
        for (var i = 1; i < request.Count; i += step)
        {
            var server = pool.Locate(request[i]);
            if (server < 0)
            {
                NoLiveServer(client);
                ResetFragmentIndex();
                return;
            }
            var group = bySlot ? HashSlot.Of(request[i]) : server;
            if (_fragmentOf[group] < 0)
            {
                _fragmentOf[group] = servers.Count;
                _touchedGroups.Add(group);
                if (_fragmentKeys.Count == servers.Count)
                {
                    _fragmentKeys.Add([]);
                }
                _fragmentKeys[servers.Count].Clear();
                servers.Add(server);
            }
            _fragmentKeys[_fragmentOf[group]].Add(i);
            _keyFragments.Add(_fragmentOf[group]);
        }
        ResetFragmentIndex();
        var reply = Begin(client, route.Merge, servers.Count);
        if (route.Merge == ReplyMerge.KeysInOrder)
        {
            foreach (var fragment in _keyFragments)
            {
                reply.AddKey(fragment);
            }
        }
        Interlocked.Add(ref pool.Stats.Fragments, servers.Count);
        var name = request[0];
        for (var f = 0; f < servers.Count; f++)
        {
            var keys = _fragmentKeys[f];
            if (ConnectionFor(pool, servers[f], reply, f) is not { } connection)
            {
                continue;
            }
            var fragmentRequest = _scratch;
            fragmentRequest.WriteArrayHeader(1 + (keys.Count * step));
            fragmentRequest.WriteBulk(name);
            foreach (var at in keys)
            {
                for (var j = 0; j < step; j++)
                {
                    fragmentRequest.WriteBulk(request[at + j]);
                }
            }
            if (pool.Cluster is not null)
            {
                SaveScratch(reply, f);
            }
            connection.Output.TakeFrom(fragmentRequest);
            backends.Send(connection, reply, f);
        }
        client.Loop.MarkDirty(client);
    }

    private static int[] CreateFragmentIndex()
    {
        var index = new int[HashSlot.Count];
        Array.Fill(index, -1);
        return index;
    }

    /// <summary>Clears the groups the last split used, so the index is all -1 again without a full pass.</summary>
    private void ResetFragmentIndex()
    {
        foreach (var group in _touchedGroups)
        {
            _fragmentOf[group] = -1;
        }
        _touchedGroups.Clear();
    }

    /// <summary>KEYS/DBSIZE/FLUSHALL/SCRIPT ...: the same request to every live backend.</summary>
    private void FanOut(ClientConnection client, ReplyMerge merge, ReadOnlySpan<byte> raw)
    {
        var live = client.Pool.LiveServers;
        if (live.Count == 0)
        {
            NoLiveServer(client);
            return;
        }
        var reply = Begin(client, merge, live.Count);
        for (var f = 0; f < live.Count; f++)
        {
            SendRaw(client, reply, f, live[f], raw);
        }
    }

    /// <summary>Creates the client's next reply, expecting <paramref name="fragments"/> answers.</summary>
    public PendingReply Begin(ClientConnection client, ReplyMerge merge, int fragments)
    {
        var reply = replies.Rent();
        reply.Start(client, merge, fragments);
        client.Enqueue(reply);
        return reply;
    }

    /// <summary>Sends <paramref name="request"/> (a RESP command, or an inline one re-encoded) to <paramref name="server"/> for fragment <paramref name="fragment"/>.</summary>
    public void SendRaw(ClientConnection client, PendingReply reply, int fragment, int server, ReadOnlySpan<byte> request)
    {
        if (ConnectionFor(client.Pool, server, reply, fragment) is not { } connection)
        {
            return;
        }
        if (request[0] == (byte)'*')
        {
            connection.Output.WriteRaw(request);
            if (client.Pool.Cluster is not null)
            {
                reply.SaveRequest(fragment, request);
            }
        }
        else
        {
            WriteRequest(_scratch, client.Request, 0);
            if (client.Pool.Cluster is not null)
            {
                SaveScratch(reply, fragment);
            }
            connection.Output.TakeFrom(_scratch);
        }
        backends.Send(connection, reply, fragment);
    }

    /// <summary>
    /// The connection that fragment <paramref name="fragment"/> of <paramref name="reply"/> goes out on; null when
    /// <paramref name="server"/> cannot be reached, the fragment then failed with "Connection refused".
    /// </summary>
    public BackendConnection? ConnectionFor(ServerPool pool, int server, PendingReply reply, int fragment)
    {
        var connection = backends.ConnectionTo(pool, server);
        if (connection is null)
        {
            FailFragment(reply, fragment, "Connection refused");
        }
        return connection;
    }

    /// <summary>Saves the request built in the scratch buffer as <paramref name="fragment"/>'s, for a cluster redirection.</summary>
    private void SaveScratch(PendingReply reply, int fragment)
    {
        var length = (int)_scratch.Length;
        if (_scratchBytes.Length < length)
        {
            _scratchBytes = new byte[Math.Max(length, _scratchBytes.Length * 2)];
        }
        _scratch.CopyTo(_scratchBytes);
        reply.SaveRequest(fragment, _scratchBytes.AsSpan(0, length));
    }

    /// <summary>
    /// A cluster answered MOVED or ASK: the request goes again to the node named (after ASKING for ASK); a MOVED
    /// also corrects the slot table and has it re-read in the background.
    /// </summary>
    private void Redirect(ServerPool pool, PendingReply reply, int fragment, bool ask, int slot, string host, int port)
    {
        var target = ask ? pool.BackendAt(host, port) : pool.Cluster!.Learn(slot, host, port);
        if (!ask)
        {
            pool.Cluster!.RequestRefresh();
        }
        if (ConnectionFor(pool, target, reply, fragment) is not { } connection)
        {
            return;
        }
        if (ask)
        {
            connection.Output.WriteLiteral("*1\r\n$6\r\nASKING\r\n"u8);
            connection.Expect(null, 0, 0);
        }
        connection.Output.WriteRaw(reply.SavedRequest(fragment));
        backends.Send(connection, reply, fragment);
    }

    /// <summary>Writes <paramref name="request"/>'s arguments from <paramref name="from"/> on as one RESP command.</summary>
    public static void WriteRequest(RespWriter output, Request request, int from)
    {
        output.WriteArrayHeader(request.Count - from);
        for (var i = from; i < request.Count; i++)
        {
            output.WriteBulk(request[i]);
        }
    }

    private void NoLiveServer(ClientConnection client)
    {
        Interlocked.Increment(ref client.Pool.Stats.ForwardError);
        var pool = client.Pool;
        Local(client).WriteError(pool.Cluster is not null ? "CLUSTERDOWN Hash slot not served"
            : pool.Config.Distribution == DistributionKind.Range ? $"ERR no live server for the key's id range in pool '{pool.Name}'"
            : $"ERR no live servers in pool '{pool.Name}'");
    }

    /// <summary>A fragment will not be answered: its request fails with <paramref name="reason"/>.</summary>
    public void FailFragment(PendingReply reply, int fragment, string reason)
    {
        var client = reply.Client;
        if (client is not null)
        {
            Interlocked.Increment(ref client.Pool.Stats.ForwardError);
        }
        reply.Fail(fragment, reason);
        AfterDelivery(reply);
    }

    /// <summary>Sends AUTH and SELECT first on a new backend connection, as nutcracker does (their replies are checked, not forwarded).</summary>
    public static void WritePreamble(BackendConnection connection)
    {
        var config = connection.Pool.Config;
        if (config.RedisAuth.Length > 0)
        {
            connection.Output.WriteArrayHeader(2);
            connection.Output.WriteBulk("AUTH"u8);
            connection.Output.WriteBulk(config.RedisAuth);
            connection.Expect(null, 0, 0);
        }
        if (config.RedisDb != 0)
        {
            connection.Output.WriteArrayHeader(2);
            connection.Output.WriteBulk("SELECT"u8);
            connection.Output.WriteBulk(config.RedisDb);
            connection.Expect(null, 0, 0);
        }
    }

    /// <summary>Hands every complete reply in the connection's input to its request; false on a protocol error.</summary>
    public bool ProcessReplies(BackendConnection connection)
    {
        var stats = connection.Backend.Stats;
        var input = connection.Input;
        while (!input.IsEmpty)
        {
            var data = input.Pending;
            var length = ReplyScanner.Measure(data);
            if (length == 0)
            {
                break;
            }
            if (length < 0 || connection.InflightCount == 0)
            {
                return false;
            }
            var bytes = data[..length];
            input.Consume(length);
            var entry = connection.Dequeue();
            if (entry.Reply is null)
            {
                if (ReplyScanner.IsError(bytes))
                {
                    ProxyLog.Warning($"pool '{connection.Pool.Name}': server {connection.Backend.Config.Address} refused the connection preamble: {Encoding.UTF8.GetString(bytes).TrimEnd()}");
                    return false;
                }
                continue;
            }
            var reply = entry.Reply;
            if (connection.Pool.Cluster is not null && bytes[0] == (byte)'-' && reply.HasSavedRequest(entry.Fragment)
                && ClusterSlotMap.TryParseRedirect(bytes, out var ask, out var slot, out var host, out var port)
                && reply.Redirected(entry.Fragment) <= MaxRedirects)
            {
                Redirect(connection.Pool, reply, entry.Fragment, ask, slot, host, port);
                continue;
            }
            Interlocked.Increment(ref stats.Responses);
            stats.RecordLatency((long)System.Diagnostics.Stopwatch.GetElapsedTime(entry.SentAt).TotalMicroseconds);
            ServerPool.RecordSuccess(connection.Backend);
            if (reply.Client is { Closed: false } client)
            {
                client.Complete(reply, entry.Fragment, bytes);
            }
            else
            {
                reply.Deliver(entry.Fragment, bytes);
                AfterDelivery(reply);
            }
        }
        return true;
    }

    private void AfterDelivery(PendingReply reply)
    {
        if (reply.Client is { Closed: false } client)
        {
            client.DrainReady();
            loop.MarkDirty(client);
        }
        else if (reply.Ready)
        {
            replies.Return(reply);
        }
    }
}
