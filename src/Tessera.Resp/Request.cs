using System.Runtime.CompilerServices;

namespace Tessera.Resp;

/// <summary>
/// The arguments of one parsed command. Arguments are slices of a buffer owned by the caller (the connection's input
/// buffer for multibulk requests, a scratch buffer for unescaped inline requests); a Request is reused for every
/// command of a connection, so parsing allocates nothing once the arrays have grown to the largest command seen.
/// </summary>
public sealed class Request
{
    private int[] _offsets = new int[8];
    private int[] _lengths = new int[8];
    private byte[] _buffer = [];
    private int _base;

    /// <summary>Number of arguments, the command name included.</summary>
    public int Count { get; private set; }

    /// <summary>Argument <paramref name="index"/> (0 is the command name).</summary>
    public ReadOnlySpan<byte> this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _buffer.AsSpan(_base + _offsets[index], _lengths[index]);
    }

    /// <summary>Length of argument <paramref name="index"/> without slicing it.</summary>
    public int LengthOf(int index) => _lengths[index];

    /// <summary>Copies argument <paramref name="index"/> into a new array (for values that outlive the request).</summary>
    public byte[] ToArray(int index) => this[index].ToArray();

    /// <summary>Points the arguments at <paramref name="buffer"/>, offsets counted from <paramref name="baseOffset"/>.</summary>
    public void Bind(byte[] buffer, int baseOffset)
    {
        _buffer = buffer;
        _base = baseOffset;
    }

    /// <summary>Forgets all arguments.</summary>
    public void Clear() => Count = 0;

    /// <summary>Appends an argument at <paramref name="offset"/> (relative to the bound base) of <paramref name="length"/> bytes.</summary>
    public void Add(int offset, int length)
    {
        if (Count == _offsets.Length)
        {
            Array.Resize(ref _offsets, Count * 2);
            Array.Resize(ref _lengths, Count * 2);
        }
        _offsets[Count] = offset;
        _lengths[Count] = length;
        Count++;
    }

    /// <summary>Replaces the arguments with <paramref name="args"/> stored in one new buffer; used by tests and scripts.</summary>
    public void Set(params ReadOnlySpan<byte[]> args)
    {
        var total = 0;
        foreach (var arg in args)
        {
            total += arg.Length;
        }
        var buffer = new byte[total];
        Clear();
        var offset = 0;
        foreach (var arg in args)
        {
            arg.CopyTo(buffer.AsSpan(offset));
            Add(offset, arg.Length);
            offset += arg.Length;
        }
        Bind(buffer, 0);
    }
}
