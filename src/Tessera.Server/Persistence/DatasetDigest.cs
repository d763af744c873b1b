using System.Buffers.Binary;
using System.Security.Cryptography;
using Tessera.Resp;
using Tessera.Server.Storage;
using Tessera.Server.Storage.Types;

namespace Tessera.Server.Persistence;

/// <summary>
/// DEBUG DIGEST and DEBUG DIGEST-VALUE (Redis's debug.c): a SHA-1 based digest of the dataset that depends on the
/// contents only, not on encodings or on the order of unordered collections, computed exactly as Redis does so two
/// servers (or a server before and after a reload) can be compared.
/// </summary>
internal static class DatasetDigest
{
    /// <summary>The digest of every database, 40 hex zeros for an empty dataset.</summary>
    public static string Of(Keyspace keyspace)
    {
        var final = new byte[20];
        var digest = new byte[20];
        Span<byte> dbNumber = stackalloc byte[4];
        foreach (var db in keyspace.Databases)
        {
            if (db.Count == 0)
            {
                continue;
            }
            BinaryPrimitives.WriteInt32BigEndian(dbNumber, db.Index);
            Mix(final, dbNumber);
            foreach (var entry in db.Entries())
            {
                Array.Clear(digest);
                Mix(digest, entry.Key);
                AddValue(digest, entry.Item, entry.Expire);
                Xor(final, digest);
            }
        }
        return Convert.ToHexStringLower(final);
    }

    /// <summary>The digest of one value (with its expiry), as DEBUG DIGEST-VALUE gives it.</summary>
    public static string OfValue(object item, long expire)
    {
        var digest = new byte[20];
        AddValue(digest, item, expire);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>The digest of a missing key.</summary>
    public static string Empty => new('0', 40);

    /// <summary>
    /// Redis's xorObjectDigest: the type, then the elements (mixed in order for strings and lists, each
    /// element's own digest xored in for sets, hashes and sorted sets), then a marker when the key has a TTL.
    /// </summary>
    private static void AddValue(byte[] digest, object item, long expire)
    {
        Span<byte> type = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(type, TypeCode(item));
        Mix(digest, type);
        switch (item)
        {
            case ListValue list:
                list.Visit(0, backwards: false, ref digest, static (element, _, ref d) =>
                {
                    Mix(d, element);
                    return true;
                });
                break;
            case SetValue set:
                foreach (var member in set.Members())
                {
                    Xor(digest, member);
                }
                break;
            case SortedSetValue zset:
                Span<byte> score = stackalloc byte[32];
                var element = new byte[20];
                foreach (var (member, value) in zset.Walk(0, reverse: false))
                {
                    Array.Clear(element);
                    Mix(element, member);
                    Mix(element, score[..RedisDouble.Format(value, score)]);
                    Xor(digest, element);
                }
                break;
            case HashValue hash:
                var pair = (Digest: digest, Scratch: new byte[20]);
                hash.ForEach(ref pair, static (field, value, ref p) =>
                {
                    Array.Clear(p.Scratch);
                    Mix(p.Scratch, field);
                    Mix(p.Scratch, value);
                    Xor(p.Digest, p.Scratch);
                });
                break;
            default:
                StringValue.TryGetBytes(item, out var bytes);
                Mix(digest, bytes);
                break;
        }
        if (expire != 0)
        {
            Xor(digest, "!!expire!!"u8);
        }
    }

    /// <summary>Redis's object type numbers: string 0, list 1, set 2, zset 3, hash 4.</summary>
    private static int TypeCode(object item) => item switch
    {
        ListValue => 1,
        SetValue => 2,
        SortedSetValue => 3,
        HashValue => 4,
        _ => 0,
    };

    /// <summary>Redis's xorDigest: xors SHA-1(<paramref name="data"/>) into the digest.</summary>
    private static void Xor(byte[] digest, ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(data, hash);
        for (var i = 0; i < 20; i++)
        {
            digest[i] ^= hash[i];
        }
    }

    /// <summary>Redis's mixDigest: xors SHA-1(<paramref name="data"/>) in, then replaces the digest by its own SHA-1.</summary>
    private static void Mix(byte[] digest, ReadOnlySpan<byte> data)
    {
        Xor(digest, data);
        SHA1.HashData(digest, digest);
    }
}
