#!/usr/bin/env python3
"""Writes src/Tessera.Core/Commands/commands.json from a running redis-server 7.0.

The command table is protocol data (names, arity, flags, key positions, ACL categories, key specs and the
COMMAND DOCS text). We read it from the reference server's own COMMAND INFO / COMMAND DOCS replies so that
Tessera's COMMAND replies, arity checks and key extraction match Redis exactly.
Usage: tools/dump-command-table.py PORT > src/Tessera.Core/Commands/commands.json
"""
import json, socket, sys


class Resp3:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self.read()

    def line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(1 << 16)
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l.decode()

    def exact(self, n):
        while len(self.buf) < n + 2:
            self.buf += self.sock.recv(1 << 16)
        d, self.buf = self.buf[:n], self.buf[n + 2:]
        return d.decode()

    def read(self):
        l = self.line()
        t, rest = l[0], l[1:]
        if t == "+": return ("simple", rest)
        if t == "-": raise RuntimeError(rest)
        if t == ":": return ("int", int(rest))
        if t == "$": return ("bulk", self.exact(int(rest)))
        if t == "*": return ("array", [self.read() for _ in range(int(rest))])
        if t == "~": return ("set", [self.read() for _ in range(int(rest))])
        if t == "%": return ("map", [(self.read(), self.read()) for _ in range(int(rest))])
        raise RuntimeError("unexpected " + l)


def plain(v):
    """Generic tree -> JSON. Maps become objects, sets and arrays lists, strings and integers themselves."""
    t, x = v
    if t == "map": return {k[1]: plain(val) for k, val in x}
    if t in ("array", "set"): return [plain(i) for i in x]
    return x


def info(v):
    f = v[1]
    entry = {
        "name": f[0][1], "arity": f[1][1], "flags": plain(f[2]),
        "firstKey": f[3][1], "lastKey": f[4][1], "step": f[5][1],
        "acl": plain(f[6]), "tips": plain(f[7]), "keySpecs": plain(f[8]),
    }
    if f[9][1]:
        entry["subcommands"] = sorted((info(s) for s in f[9][1]), key=lambda e: e["name"])
    return entry


def docs_of(docs_tree):
    d = {}
    for k, val in docs_tree[1]:
        if k[1] == "subcommands":
            d["subcommands"] = {sk[1]: docs_of(sv) for sk, sv in val[1]}
        else:
            d[k[1]] = plain(val)
    return d


def attach_docs(entry, docs):
    subdocs = docs.pop("subcommands", {})
    entry["docs"] = docs
    for sub in entry.get("subcommands", []):
        if sub["name"] in subdocs:
            attach_docs(sub, subdocs[sub["name"]])


# Later Redis additions that Tessera's issues ask for, applied on top of 7.0's table: ZRANK/ZREVRANK WITHSCORE (7.2).
EXTENSIONS = {
    name: {"arity": -3, "arguments": {"name": "withscore", "type": "pure-token", "token": "WITHSCORE",
                                      "flags": ["optional"], "since": "7.2.0"}}
    for name in ("zrank", "zrevrank")
}


# Flags that COMMAND INFO does not show but that change behaviour. Redis's own (from the command_flags of its
# src/commands/*.json): a command touching arbitrary keys (lazy expiry while scanning) does not wrap what it
# propagates in MULTI/EXEC; one that may replicate waits out CLIENT PAUSE WRITE; a protected one runs only as
# enable-debug-command / enable-module-command allow. And the special cases of Redis's processCommand, which it
# writes as lists of command procs, as flags of the table: the transaction's own commands run at once inside MULTI
# instead of being queued; only some commands are allowed to a RESP2 client in subscribe mode.
TRANSACTION_CONTROL = ("multi", "exec", "discard", "watch", "quit", "reset")
SUBSCRIBE_CONTEXT = ("subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe", "ping",
                     "quit", "reset")
INTERNAL_FLAGS = {}
for flag, names in (("touches_arbitrary_keys", ("scan", "randomkey")),
                    ("may_replicate", ("eval", "evalsha", "fcall", "pfcount", "publish", "spublish")),
                    ("protected", ("debug", "module|load", "module|loadex", "module|unload")),
                    ("transaction_control", TRANSACTION_CONTROL),
                    ("subscribe_context", SUBSCRIBE_CONTEXT)):
    for name in names:
        INTERNAL_FLAGS.setdefault(name, []).append(flag)


def extend(entry):
    if entry["name"] in INTERNAL_FLAGS:
        entry["internalFlags"] = INTERNAL_FLAGS[entry["name"]]
    for sub in entry.get("subcommands", []):
        if sub["name"] in INTERNAL_FLAGS:
            sub["internalFlags"] = INTERNAL_FLAGS[sub["name"]]
    extension = EXTENSIONS.get(entry["name"])
    if extension:
        entry["arity"] = extension["arity"]
        entry["docs"]["arguments"].append(extension["arguments"])
        entry["docs"].setdefault("history", []).append(["7.2.0", "Added the optional `WITHSCORE` argument."])


def main():
    r = Resp3(int(sys.argv[1]))
    r.call("HELLO", "3")
    # COMMAND LIST names subcommands too ("config|get"); they are stored under their container.
    names = sorted(n[1] for n in r.call("COMMAND", "LIST")[1] if "|" not in n[1])
    table = []
    for name in names:
        entry = info(r.call("COMMAND", "INFO", name)[1][0])
        (_, docs), = r.call("COMMAND", "DOCS", name)[1]
        attach_docs(entry, docs_of(docs))
        extend(entry)
        table.append(entry)
    json.dump(table, sys.stdout, indent=1)
    sys.stdout.write("\n")


main()
