using System.Runtime.InteropServices;
using Tessera.Resp;

namespace Tessera.Core.Networking;

/// <summary>Output flushing for the event loops: sends on a non-blocking socket until the kernel's buffer is full.</summary>
public static unsafe class NonBlockingSend
{
    /// <summary>Sends what the kernel takes of <paramref name="output"/> now: the bytes sent, or -1 on a broken connection.</summary>
    public static long Pending(int fd, OutputBuffer output)
    {
        long sent = 0;
        while (!output.IsEmpty)
        {
            var data = output.PeekFirst();
            nint n;
            fixed (byte* p = data)
            {
                n = Native.Send(fd, p, data.Length, Native.MsgNoSignal);
            }
            if (n > 0)
            {
                output.Consume(n);
                sent += n;
                continue;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (n < 0 && errno == Native.EIntr)
            {
                continue;
            }
            if (n < 0 && errno != Native.EAgain)
            {
                return -1;
            }
            break;
        }
        return sent;
    }
}
