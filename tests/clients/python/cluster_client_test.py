"""redis-py's RedisCluster (Debian's python3-redis) against a running cluster: the tests/Tessera.Server.Tests
ClientLibraryTests start the cluster and run this script with the seed port; it exits non-zero on the first
difference from what a Redis Cluster gives this client."""
import sys
import time

import redis
from redis.cluster import RedisCluster
from redis.exceptions import ResponseError


def main(port):
    rc = RedisCluster(host="127.0.0.1", port=port, decode_responses=True)

    # SET/GET over every slot: 20,000 keys land on all three masters.
    before = [rc.dbsize(target_nodes=node) for node in rc.get_primaries()]
    for i in range(20000):
        rc.set(f"py:key:{i}", f"value:{i}")
    for i in range(0, 20000, 7):
        assert rc.get(f"py:key:{i}") == f"value:{i}", i
    added = [rc.dbsize(target_nodes=node) - b for node, b in zip(rc.get_primaries(), before)]
    assert len(added) == 3 and sum(added) == 20000 and min(added) > 5000, added

    # Pipelines split by node and answered in order.
    pipe = rc.pipeline()
    for i in range(500):
        pipe.incr(f"py:counter:{i}")
        pipe.get(f"py:key:{i}")
    replies = pipe.execute()
    assert replies[0::2] == [1] * 500 and replies[1::2] == [f"value:{i}" for i in range(500)]

    # Hash tags keep multi-key commands in one slot.
    assert rc.keyslot("{user:1}:name") == rc.keyslot("{user:1}:mail")
    rc.mset({"{user:1}:name": "ada", "{user:1}:mail": "ada@example.org"})
    assert rc.mget("{user:1}:name", "{user:1}:mail") == ["ada", "ada@example.org"]
    assert rc.execute_command("SUNIONSTORE", "{t}dst", "{t}a", "{t}b") == 0

    # A multi-key command across slots: the server's CROSSSLOT error, straight from a node.
    node = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
    slot_owner = rc.get_node_from_key("a")
    direct = redis.Redis(host=slot_owner.host, port=slot_owner.port, decode_responses=True)
    try:
        direct.mset({"a": "1", "b": "2"})
        raise AssertionError("MSET across slots succeeded")
    except ResponseError as e:
        assert str(e) == "CROSSSLOT Keys in request don't hash to the same slot", str(e)

    # Cluster metadata as the client reads it.
    assert rc.cluster_info()["cluster_state"] == "ok"
    # Replicas appear in CLUSTER SLOTS once their masters heard of them: reread the slots for a while.
    deadline = time.time() + 10
    while len(rc.get_nodes()) < 6 and time.time() < deadline:
        time.sleep(0.2)
        rc.nodes_manager.initialize()
    assert len(rc.get_nodes()) == 6 and len(rc.get_primaries()) == 3, rc.get_nodes()
    assert node.execute_command("CLUSTER", "KEYSLOT", "somekey") == 11058

    # Transactions on one node through a tag, and expiry.
    rc.set("{tx}counter", 5, ex=100)
    assert 0 < rc.ttl("{tx}counter") <= 100
    print("redis-py RedisCluster: all checks passed")


if __name__ == "__main__":
    main(int(sys.argv[1]))
