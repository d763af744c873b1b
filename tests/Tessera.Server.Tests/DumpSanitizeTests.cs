using System.Buffers.Binary;
using System.Text;
using Tessera.Core.Hashing;
using Tessera.TestKit;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>
/// sanitize-dump-payload: payloads of every compact encoding (listpack, intset, and the ziplists and zipmaps of
/// older versions) corrupted one byte at a time, with a valid checksum, go to redis-server and to Tessera. Every
/// payload Redis refuses ("Bad data format"), Tessera refuses; one Redis takes, Tessera takes with the same
/// contents, or refuses: under "yes" only when a sorted set's score is no longer a number (Redis stores 0 for
/// it); under "no" also a listpack it cannot rebuild, which Redis stores unchecked and may crash on later.
/// </summary>
public sealed class DumpSanitizeTests : DebugEnabledServers
{
    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    public void Corrupted_payloads_are_refused_where_redis_refuses_them(string sanitize)
    {
        using var redis = Redis.Connect();
        using var tessera = Tessera.Connect();
        redis.Call("CONFIG", "SET", "sanitize-dump-payload", sanitize);
        tessera.Call("CONFIG", "SET", "sanitize-dump-payload", sanitize);
        redis.Call("HSET", "hash", "a", "1", "bb", "22", "ccc", "hello world");
        redis.Call("ZADD", "zset", "1", "a", "2.5", "bb", "-3", "ccc");
        redis.Call("SADD", "intset", "1", "5", "100000", "-7");
        redis.Call("RPUSH", "list", "a", "12", "bbb", "-1", "70000", "hello");
        var bodies = new List<byte[]>();
        foreach (var key in new[] { "hash", "zset", "intset", "list" })
        {
            var payload = redis.CallBulk("DUMP", key);
            bodies.Add(payload[..^10]);
        }
        bodies.Add(Legacy(13, Ziplist("f1", "v1", "f2", "7", "field3", "70000")));
        bodies.Add(Legacy(12, Ziplist("a", "1.5", "b", "3")));
        bodies.Add(Legacy(10, Ziplist("x", "5", "yy", "-100", "300000")));
        bodies.Add(Legacy(9, Zipmap(("a", "1"), ("bb", "22"))));

        var refusedByBoth = 0;
        var checkedPayloads = 0;
        foreach (var body in bodies)
        {
            Assert.Equal("OK", Restore(tessera, body).Text);
            for (var position = 1; position < body.Length; position++)
            {
                foreach (var flip in new byte[] { 0x01, 0x80, 0xff })
                {
                    var corrupted = (byte[])body.Clone();
                    corrupted[position] ^= flip;
                    var expected = Restore(redis, corrupted);
                    var actual = Restore(tessera, corrupted);
                    checkedPayloads++;
                    if (expected.IsError)
                    {
                        Assert.Equal("ERR Bad data format", actual.Text);
                        refusedByBoth++;
                    }
                    else if (!actual.IsError && sanitize == "yes")
                    {
                        // (Under "no" Redis may have stored a listpack it crashes on when read.)
                        Assert.Equal(redis.Call("DEBUG", "DIGEST-VALUE", "t").ToString(), tessera.Call("DEBUG", "DIGEST-VALUE", "t").ToString());
                    }
                    else if (sanitize == "yes")
                    {
                        Assert.Equal("zset", redis.Call("TYPE", "t").Text);
                    }
                }
            }
        }
        Assert.True(refusedByBoth > checkedPayloads / 10, $"only {refusedByBoth} of {checkedPayloads} refused");
        if (sanitize == "yes")
        {
            Assert.True(tessera.InfoField("stats", "dump_payload_sanitizations") > 0);
        }
    }

    /// <summary>RESTORE t 0 body+version+crc REPLACE.</summary>
    private static RespValue Restore(RespClient client, byte[] body)
    {
        var payload = new byte[body.Length + 10];
        body.CopyTo(payload, 0);
        payload[body.Length] = 10;
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(body.Length + 2), Crc64.Compute(payload.AsSpan(0, body.Length + 2)));
        return client.Call([Bytes("RESTORE"), Bytes("t"), Bytes("0"), payload, Bytes("REPLACE")]);
    }

    /// <summary>A payload body of an older RDB type: the type byte, then the blob as a short RDB string.</summary>
    private static byte[] Legacy(byte type, byte[] blob) => [type, (byte)blob.Length, .. blob];

    /// <summary>ziplist.c's layout: total bytes, offset of the last entry, count, entries (previous length, encoding), 0xFF.</summary>
    private static byte[] Ziplist(params string[] items)
    {
        var entries = new List<byte>();
        var previous = 0;
        var tail = 10;
        foreach (var item in items)
        {
            var entry = new List<byte> { (byte)previous };
            if (int.TryParse(item, out var number) && number is >= 0 and <= 12)
            {
                entry.Add((byte)(0xf1 + number));
            }
            else if (int.TryParse(item, out number))
            {
                entry.Add(0xd0);
                entry.AddRange(BitConverter.GetBytes(number));
            }
            else
            {
                entry.Add((byte)item.Length);
                entry.AddRange(Encoding.ASCII.GetBytes(item));
            }
            tail = 10 + entries.Count;
            entries.AddRange(entry);
            previous = entry.Count;
        }
        var blob = new byte[10 + entries.Count + 1];
        BinaryPrimitives.WriteInt32LittleEndian(blob, blob.Length);
        BinaryPrimitives.WriteInt32LittleEndian(blob.AsSpan(4), tail);
        BinaryPrimitives.WriteInt16LittleEndian(blob.AsSpan(8), (short)items.Length);
        entries.CopyTo(blob, 10);
        blob[^1] = 0xff;
        return blob;
    }

    /// <summary>zipmap.c's layout: count, then field length, field, value length, free bytes, value; 0xFF.</summary>
    private static byte[] Zipmap(params (string Field, string Value)[] pairs)
    {
        var blob = new List<byte> { (byte)pairs.Length };
        foreach (var (field, value) in pairs)
        {
            blob.Add((byte)field.Length);
            blob.AddRange(Encoding.ASCII.GetBytes(field));
            blob.Add((byte)value.Length);
            blob.Add(0);
            blob.AddRange(Encoding.ASCII.GetBytes(value));
        }
        blob.Add(0xff);
        return [.. blob];
    }

    private static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);
}
