using System.Runtime.InteropServices;
using Tessera.Core.Networking;

namespace Tessera.Proxy.Networking;

/// <summary>
/// Bytes read from one socket and not yet handled: <c>Bytes[Start..End)</c>. Grows for a request or reply larger
/// than itself, and goes back to its first size once emptied, so a one-off large value does not pin memory.
/// </summary>
internal sealed unsafe class ReadBuffer
{
    private const int InitialBytes = 16 * 1024;
    private const int MaxIdleBytes = 64 * 1024;

    public byte[] Bytes { get; private set; } = new byte[InitialBytes];

    public int Start { get; private set; }

    public int End { get; private set; }

    public bool IsEmpty => Start == End;

    /// <summary>The bytes not yet handled.</summary>
    public ReadOnlySpan<byte> Pending => Bytes.AsSpan(Start, End - Start);

    /// <summary>
    /// One recv from <paramref name="fd"/> after making room (at least <paramref name="needed"/> bytes in all, for a
    /// large bulk being read): the bytes read, 0 when the socket has nothing now, -1 when it is closed or failed.
    /// </summary>
    public nint Receive(int fd, long needed = 0)
    {
        if (End == Bytes.Length)
        {
            MakeRoom(needed);
        }
        nint n;
        fixed (byte* p = &Bytes[End])
        {
            n = Native.Recv(fd, p, Bytes.Length - End, 0);
        }
        if (n > 0)
        {
            End += (int)n;
            return n;
        }
        return n < 0 && Marshal.GetLastPInvokeError() is Native.EAgain or Native.EIntr ? 0 : -1;
    }

    /// <summary>True when the last <see cref="Receive"/> filled the buffer (more may be waiting in the socket).</summary>
    public bool IsFull => End == Bytes.Length;

    /// <summary>Marks <paramref name="count"/> bytes handled; an emptied buffer starts over (and shrinks back).</summary>
    public void Consume(int count)
    {
        Start += count;
        if (Start == End)
        {
            Start = End = 0;
            if (Bytes.Length > MaxIdleBytes)
            {
                Bytes = new byte[InitialBytes];
            }
        }
    }

    /// <summary>Drops everything pending (a connection given up on).</summary>
    public void Discard() => Consume(End - Start);

    private void MakeRoom(long needed)
    {
        var used = End - Start;
        if (Start > 0 && used < Bytes.Length / 2 && needed <= Bytes.Length)
        {
            Bytes.AsSpan(Start, used).CopyTo(Bytes);
        }
        else
        {
            var grown = new byte[Math.Max(Bytes.Length * 2, needed + 1024)];
            Bytes.AsSpan(Start, used).CopyTo(grown);
            Bytes = grown;
        }
        Start = 0;
        End = used;
    }
}
