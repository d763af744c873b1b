using System.Text;
using Tessera.Server.Config;
using Tessera.Server.Storage;
using Xunit;

namespace Tessera.Server.Tests;

/// <summary>The storage layer's own invariants, checked against simple models.</summary>
public class StorageTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(16_384)]
    [InlineData(300_000)]
    public void Packed_strings_keep_key_and_value_for_any_key_length(int keyLength)
    {
        var key = Enumerable.Range(0, keyLength).Select(i => (byte)(i * 7)).ToArray();
        var value = "some value"u8.ToArray();
        var packed = PackedString.Create(key, value);
        Assert.True(PackedString.Key(packed).SequenceEqual(key));
        Assert.True(PackedString.Value(packed).SequenceEqual(value));
    }

    [Fact]
    public void Key_tables_behave_like_a_dictionary_under_random_operations()
    {
        var random = new Random(7);
        var table = new KeyTable();
        var model = new Dictionary<string, (string Value, long Expire)>();
        for (var step = 0; step < 50_000; step++)
        {
            var key = "k" + random.Next(2000);
            var bytes = Encoding.ASCII.GetBytes(key);
            var hash = (uint)Tessera.Core.Hashing.KeyHash.Compute(bytes);
            var index = table.Find(bytes, hash);
            Assert.Equal(model.ContainsKey(key), index >= 0);
            switch (random.Next(4))
            {
                case 0 when index < 0:
                    var value = "v" + step;
                    var added = table.Add(PackedString.Create(bytes, Encoding.ASCII.GetBytes(value)), hash, 0);
                    var expire = random.Next(3) == 0 ? step + 1 : 0;
                    table.SetExpire(added, expire);
                    model[key] = (value, expire);
                    break;
                case 1 when index >= 0:
                    table.RemoveAt(index);
                    table.TryShrink();
                    model.Remove(key);
                    break;
                default:
                    if (index >= 0)
                    {
                        Assert.Equal(model[key].Value, Encoding.ASCII.GetString(PackedString.Value((byte[])table[index].Item!)));
                        Assert.Equal(model[key].Expire, table.ExpireAt(index));
                    }
                    break;
            }
            Assert.Equal(model.Count, table.Count);
            Assert.Equal(model.Values.Count(v => v.Expire != 0), table.VolatileCount);
        }
        // Visiting every bucket finds every key exactly once.
        var seen = new List<string>();
        for (var bucket = 0; bucket < table.Capacity; bucket++)
        {
            table.VisitBucket(bucket, ref seen, static (t, i, ref s) => s.Add(Encoding.ASCII.GetString(KeyTable.KeyOf(t[i].Item!))));
        }
        Assert.Equal(model.Keys.Order(), seen.Order());
    }

    [Fact]
    public void Memory_accounting_returns_to_its_start_when_keys_go()
    {
        var keyspace = new Keyspace(new ServerConfig());
        var db = keyspace.Databases[0];
        for (var i = 0; i < 10_000; i++)
        {
            db.AddString(Encoding.ASCII.GetBytes("key:" + i), Encoding.ASCII.GetBytes("value"), StringEncoding.Embstr);
        }
        var full = db.UsedMemory;
        Assert.InRange(full, 10_000 * 40, 10_000 * 120);
        for (var i = 0; i < 10_000; i++)
        {
            Assert.True(db.TryFindRaw(Encoding.ASCII.GetBytes("key:" + i), out var key));
            db.SetExpire(key, 1);
            db.Remove(key);
        }
        Assert.Equal(0, db.Count);
        Assert.Equal(0, db.VolatileCount);
        // What remains is the fixed cost of the tables created, at their minimum size.
        Assert.InRange(db.UsedMemory, 0, 16384 * 128);
    }

    [Fact]
    public void The_string_pool_reuses_arrays_of_the_same_length_within_its_capacity()
    {
        var pool = new PackedStringPool { Capacity = 1000 };
        var array = new byte[100];
        pool.Return(array);
        Assert.Same(array, pool.Rent(100));
        Assert.NotSame(array, pool.Rent(100));
        for (var i = 0; i < 20; i++)
        {
            pool.Return(new byte[100]);
        }
        Assert.True(pool.Bytes <= 1000);
        pool.Return(new byte[PackedStringPool.MaxLength + 1]);
        Assert.True(pool.Bytes <= 1000);
    }
}
