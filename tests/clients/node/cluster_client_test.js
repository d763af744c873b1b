// ioredis's Cluster client against a running cluster: tests/Tessera.Server.Tests ClientLibraryTests start the
// cluster and run this script with the seed port; it exits non-zero on the first difference from what a Redis
// Cluster gives this client.
"use strict";
const assert = require("node:assert/strict");
const Redis = require("ioredis");

async function main(port) {
  const cluster = new Redis.Cluster([{ host: "127.0.0.1", port }], { redisOptions: { connectTimeout: 5000 } });
  try {
    // SET/GET over every slot, in batches of concurrent commands (ioredis pipelines them per node).
    for (let start = 0; start < 20000; start += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, k) => cluster.set(`js:key:${start + k}`, `value:${start + k}`)));
    }
    for (let i = 0; i < 20000; i += 7) {
      assert.equal(await cluster.get(`js:key:${i}`), `value:${i}`);
    }
    const masters = cluster.nodes("master");
    const counts = await Promise.all(masters.map(async (node) => (await node.keys("js:key:*")).length));
    assert.equal(masters.length, 3);
    assert.equal(counts.reduce((a, b) => a + b, 0), 20000);
    assert.ok(Math.min(...counts) > 5000, String(counts));

    // An explicit pipeline (ioredis sends one to a single node, so its keys share a tag): replies in order.
    const pipeline = cluster.pipeline();
    for (let i = 0; i < 300; i++) pipeline.set(`{js}:${i}`, String(i)).get(`{js}:${i}`);
    const results = await pipeline.exec();
    results.forEach(([error, value], n) => {
      assert.equal(error, null);
      assert.equal(value, n % 2 === 0 ? "OK" : String(Math.floor(n / 2)));
    });

    // Hash tags keep multi-key commands in one slot; across slots the server answers CROSSSLOT.
    await cluster.mset("{js:user}:name", "ada", "{js:user}:mail", "ada@example.org");
    assert.deepEqual(await cluster.mget("{js:user}:name", "{js:user}:mail"), ["ada", "ada@example.org"]);
    await assert.rejects(cluster.mget("a", "b"), /CROSSSLOT Keys in request don't hash to the same slot/);

    // MULTI/EXEC on one slot.
    const tx = await cluster.multi().incr("{js:tx}n").incr("{js:tx}n").exec();
    assert.deepEqual(tx, [[null, 1], [null, 2]]);

    // Sharded pub/sub: SSUBSCRIBE on the channel's node, SPUBLISH routed by the channel's slot.
    const channel = "{orders}updates";
    const owner = cluster.slots[await cluster.cluster("KEYSLOT", channel)][0];
    const [host, nodePort] = owner.split(":");
    const subscriber = new Redis({ host, port: Number(nodePort) });
    const received = new Promise((resolve) => subscriber.on("smessage", (ch, message) => resolve([ch, message])));
    await subscriber.ssubscribe(channel);
    assert.equal(await cluster.spublish(channel, "shipped"), 1);
    assert.deepEqual(await received, [channel, "shipped"]);
    subscriber.disconnect();

    // PUBLISH reaches a subscriber on another node, through the cluster bus.
    const listener = new Redis({ host: "127.0.0.1", port: masters[0].options.port });
    const heard = new Promise((resolve) => listener.on("message", (ch, message) => resolve([ch, message])));
    await listener.subscribe("news");
    await masters[1].publish("news", "hello");
    assert.deepEqual(await heard, ["news", "hello"]);
    listener.disconnect();

    console.log("ioredis Cluster: all checks passed");
  } finally {
    cluster.disconnect();
  }
}

main(Number(process.argv[2])).catch((error) => {
  console.error(error);
  process.exit(1);
});
