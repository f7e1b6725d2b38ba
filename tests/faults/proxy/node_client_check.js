// Drives `faultline proxy` with the published Toxiproxy client from npm (toxiproxy-node-client).
// Usage: node node_client_check.js <api host:port> <echo upstream host:port>
"use strict";
const assert = require("assert");
const net = require("net");
const { Toxiproxy } = require("toxiproxy-node-client");

const [api, upstream] = process.argv.slice(2);

// Sends `text` through the proxy to the echo server; resolves with the reply and the time taken.
function roundTrip(listen, text) {
  const [host, port] = [listen.slice(0, listen.lastIndexOf(":")), Number(listen.slice(listen.lastIndexOf(":") + 1))];
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect({ host, port }, () => socket.write(text));
    let reply = "";
    socket.on("data", (d) => {
      reply += d.toString();
      if (reply.length >= text.length) {
        socket.end();
        resolve({ reply, ms: Date.now() - started });
      }
    });
    socket.on("error", reject);
  });
}

function refused(listen) {
  const port = Number(listen.slice(listen.lastIndexOf(":") + 1));
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.on("connect", () => { socket.destroy(); resolve(false); });
    socket.on("error", (e) => resolve(e.code === "ECONNREFUSED"));
  });
}

(async () => {
  const toxiproxy = new Toxiproxy(`http://${api}`);
  const proxy = await toxiproxy.createProxy({ name: "node", listen: "localhost:0", upstream });
  assert.match(proxy.listen, /^127\.0\.0\.1:\d+$/);
  assert.strictEqual(proxy.enabled, true);

  const toxic = await proxy.addToxic({ type: "latency", stream: "downstream", attributes: { latency: 200 } });
  assert.strictEqual(toxic.name, "latency_downstream");
  assert.strictEqual(toxic.toxicity, 1);
  assert.deepStrictEqual(toxic.attributes, { latency: 200, jitter: 0 });
  const slow = await roundTrip(proxy.listen, "ping");
  assert.strictEqual(slow.reply, "ping");
  assert.ok(slow.ms >= 200, `round trip took ${slow.ms} ms with a 200 ms latency toxic`);

  const updated = await toxic.update({ attributes: { jitter: 5 }, toxicity: 0.5 });
  assert.deepStrictEqual(updated.attributes, { latency: 200, jitter: 5 });
  assert.strictEqual(updated.toxicity, 0.5);
  const fetched = await proxy.getToxic("latency_downstream");
  assert.deepStrictEqual(fetched.toJson(), updated.toJson());
  await updated.remove();
  const fast = await roundTrip(proxy.listen, "pong");
  assert.strictEqual(fast.reply, "pong");

  const all = await toxiproxy.getAll();
  assert.deepStrictEqual(Object.keys(all), ["node"]);
  const version = await toxiproxy.getVersion();
  assert.match(version, /"version"/);

  const disabled = await proxy.update({ enabled: false });
  assert.strictEqual(disabled.enabled, false);
  assert.ok(await refused(proxy.listen), "a disabled proxy must refuse connections");
  await toxiproxy.reset();
  const again = await toxiproxy.get("node");
  assert.strictEqual(again.enabled, true);
  assert.strictEqual((await roundTrip(again.listen, "back")).reply, "back");

  const populated = await toxiproxy.populate([{ name: "pop", listen: "127.0.0.1:0", upstream }]);
  assert.ok(populated.pop, "populate returns the proxies by name");
  await assert.rejects(toxiproxy.get("missing"), /404/);
  await assert.rejects(proxy.addToxic({ type: "no_such_toxic" }), /400/);

  await populated.pop.remove();
  await again.remove();
  assert.deepStrictEqual(Object.keys(await toxiproxy.getAll()), []);
  console.log("toxiproxy-node-client: all checks passed");
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
