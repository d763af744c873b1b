using Tessera.Core.Networking;
using Tessera.Server.Logging;

namespace Tessera.Server;

public sealed partial class TesseraServer
{
    /// <summary>The TCP port actually bound (differs from the configured one when it was 0).</summary>
    public int Port => _listeners.FirstOrDefault(l => l.UnixPath is null)?.Port ?? (int)Config.Port.Value;

    /// <summary>Sum of a per-loop counter.</summary>
    internal long NetInputBytes => _loops.Sum(l => l.NetInputBytes);

    internal long NetOutputBytes => _loops.Sum(l => l.NetOutputBytes);

    /// <summary>The path when <paramref name="fd"/> is a unix socket listener, else null.</summary>
    internal string? UnixSocketPathOf(int fd)
    {
        foreach (var listener in _listeners)
        {
            if (listener.Fd == fd)
            {
                return listener.UnixPath;
            }
        }
        return null;
    }

    private void BindListeners()
    {
        if (Config.Port.Value != 0 || Config.UnixSocket.Value.Length == 0)
        {
            _listeners.AddRange(BindTcpListeners());
        }
        if (Config.UnixSocket.Value.Length > 0)
        {
            _listeners.Add(Listener.Unix(Config.UnixSocket.Value, (int)Config.UnixSocketPerm.Value, (int)Config.TcpBacklog.Value));
        }
        if (_listeners.Count == 0)
        {
            throw new IOException("Configured to not listen anywhere, exiting.");
        }
    }

    /// <summary>One listener per bind address; an address marked '-' may fail. Throws if another one fails.</summary>
    private List<Listener> BindTcpListeners()
    {
        var created = new List<Listener>();
        var port = (int)Config.Port.Value;
        foreach (var entry in Config.Bind)
        {
            var optional = entry.StartsWith('-');
            var address = optional ? entry[1..] : entry;
            try
            {
                created.Add(Listener.Tcp(address, port, (int)Config.TcpBacklog.Value));
                // Port 0 asks for any free port; the other addresses share the one chosen.
                port = port == 0 ? created[^1].Port : port;
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or FormatException)
            {
                Log.BindFailed($"{address}:{port}", e.Message);
                if (!optional)
                {
                    created.ForEach(l => l.Dispose());
                    throw new IOException($"Could not create server TCP listening socket {address}:{port}: {e.Message}", e);
                }
            }
        }
        return created;
    }

    /// <summary>
    /// CONFIG SET port/bind: binds the new TCP listeners first (a failure keeps the old ones and is reported with
    /// Redis's texts), then swaps.
    /// </summary>
    private void Rebind(string failure)
    {
        List<Listener> created;
        try
        {
            created = BindTcpListeners();
        }
        catch (IOException)
        {
            throw new Config.ConfigApplyException(failure);
        }
        foreach (var old in _listeners.Where(l => l.UnixPath is null).ToList())
        {
            foreach (var loop in _loops)
            {
                loop.RemoveListener(old.Fd);
            }
            old.Dispose();
            _listeners.Remove(old);
        }
        foreach (var listener in created)
        {
            _listeners.Add(listener);
            foreach (var loop in _loops)
            {
                loop.AddListener(listener.Fd);
            }
        }
    }
}
