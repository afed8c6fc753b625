#!/usr/bin/env python3
"""Litecoin Core side by side with `qbc bench sync` (issue 18; not part of the test suite).

Builds a regtest chain of about N transactions in one litecoind (a wallet, fan-out transactions,
then 1-in-1-out spends, mined a block at a time), starts a second, fresh litecoind with full
validation (-assumevalid=0) connected only to the first, and times it until it holds the whole
chain. Then runs `qbc bench sync --transactions N` in the same window, so both figures come from
the same machine minutes apart. Everything listens on 127.0.0.1 only.

Needs: litecoind and litecoin-cli 0.21 (`apt-get install -y litecoind`), a release build of qbc.
Usage: tools/litecoin-sync.py [--transactions 50000] [--qbc .build/release/qbc]
"""
import argparse
import base64
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

USER, PASSWORD = "bench", "bench"
AUTH = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def rpc(port, calls, wallet=None):
    """One JSON-RPC batch; raises on the first error."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    body = json.dumps([{"jsonrpc": "1.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)])
    conn.request("POST", f"/wallet/{wallet}" if wallet else "/", body,
                 {"Authorization": "Basic " + AUTH, "Content-Type": "application/json"})
    answer = json.loads(conn.getresponse().read())
    conn.close()
    out = [None] * len(calls)
    for item in answer:
        if item.get("error"):
            raise RuntimeError(f"{calls[item['id']][0]}: {item['error']}")
        out[item["id"]] = item["result"]
    return out


def call(port, method, *params, wallet=None):
    return rpc(port, [(method, list(params))], wallet)[0]


def start(datadir, port, rpcport, extra):
    os.makedirs(datadir, exist_ok=True)
    process = subprocess.Popen(
        ["litecoind", "-regtest", f"-datadir={datadir}", f"-port={port}", f"-rpcport={rpcport}",
         f"-rpcuser={USER}", f"-rpcpassword={PASSWORD}", "-rpcbind=127.0.0.1", "-rpcallowip=127.0.0.1",
         "-printtoconsole=0", "-server=1", "-rpcthreads=8", "-rpcworkqueue=256"] + extra,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        if process.poll() is not None:
            sys.exit(f"litecoind exited ({process.returncode}); see {datadir}/regtest/debug.log")
        try:
            call(rpcport, "getblockcount")
            return process
        except (OSError, RuntimeError, http.client.HTTPException, json.JSONDecodeError):
            time.sleep(0.1)
    process.kill()
    sys.exit("litecoind did not answer RPC within 60 s")


def build_chain(rpcport, transactions):
    """A chain with at least `transactions` spends; returns (height, transactions in the chain)."""
    call(rpcport, "createwallet", "w")
    miner = call(rpcport, "getnewaddress", "", "bech32", wallet="w")
    per_fanout = 2000
    fanouts = -(-transactions // per_fanout)
    call(rpcport, "generatetoaddress", 100 + fanouts, miner, wallet="w")
    coinbases = [u for u in call(rpcport, "listunspent", 1, 9999999, [miner], wallet="w") if u["amount"] >= 1][:fanouts]
    if len(coinbases) < fanouts:
        sys.exit(f"only {len(coinbases)} mature coinbases, {fanouts} needed")
    sink = call(rpcport, "getnewaddress", "", "bech32", wallet="w")
    outputs = []
    addresses = rpc(rpcport, [("getnewaddress", ["", "bech32"])] * per_fanout, wallet="w")
    for coinbase in coinbases:
        amount = round((float(coinbase["amount"]) - 0.01) / per_fanout, 8)
        raw = call(rpcport, "createrawtransaction", [{"txid": coinbase["txid"], "vout": coinbase["vout"]}],
                   [{a: amount} for a in addresses])
        signed = call(rpcport, "signrawtransactionwithwallet", raw, wallet="w")
        txid = call(rpcport, "sendrawtransaction", signed["hex"], 0)
        outputs += [(txid, index, amount) for index in range(per_fanout)]
    # A block holds about eleven fan-outs; spends of an unconfirmed one would hit the mempool's
    # descendant limit.
    while call(rpcport, "getmempoolinfo")["size"] > 0:
        call(rpcport, "generatetoaddress", 1, miner, wallet="w")
    sent = 0
    outputs = outputs[:transactions]
    for start_at in range(0, len(outputs), 1000):
        chunk = outputs[start_at:start_at + 1000]
        raws = rpc(rpcport, [("createrawtransaction", [[{"txid": t, "vout": i}], [{sink: round(a - 0.0001, 8)}]])
                             for t, i, a in chunk])
        signed = rpc(rpcport, [("signrawtransactionwithwallet", [raw]) for raw in raws], wallet="w")
        rpc(rpcport, [("sendrawtransaction", [s["hex"], 0]) for s in signed])
        sent += len(chunk)
        if sent % 8000 == 0:
            call(rpcport, "generatetoaddress", 1, miner, wallet="w")
        print(f"\r  built {sent}/{len(outputs)} spends", end="", flush=True)
    print()
    while call(rpcport, "getmempoolinfo")["size"] > 0:
        call(rpcport, "generatetoaddress", 1, miner, wallet="w")
    height = call(rpcport, "getblockcount")
    total = call(rpcport, "getchaintxstats", height - 1)["txcount"]
    return height, total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=50_000)
    parser.add_argument("--qbc", default=".build/release/qbc")
    arguments = parser.parse_args()
    if shutil.which("litecoind") is None:
        sys.exit("litecoind is not installed: apt-get install -y litecoind")
    root = tempfile.mkdtemp(prefix="qbc-litecoin-")
    nodes = []
    try:
        print(f"building a regtest chain of {arguments.transactions} spends in {root}/a")
        source = start(f"{root}/a", 19444, 19443, ["-bind=127.0.0.1", "-fallbackfee=0.0001", "-maxmempool=2000"])
        nodes.append(source)
        height, total = build_chain(19443, arguments.transactions)
        print(f"  chain: {height} blocks, {total} transactions (coinbases and fan-outs included)")
        began = time.monotonic()
        fresh = start(f"{root}/b", 19446, 19445, ["-assumevalid=0", "-disablewallet", "-connect=127.0.0.1:19444", "-listen=0"])
        nodes.append(fresh)
        while call(19445, "getblockcount") < height:
            time.sleep(0.05)
        seconds = time.monotonic() - began
        print(f"litecoind 0.21, fresh node, -assumevalid=0: synced {total} transactions in {seconds:.2f} s "
              f"(process start included): {total / seconds:,.0f} tx/s")
    finally:
        for node in nodes:
            node.terminate()
        for node in nodes:
            try:
                node.wait(timeout=60)
            except subprocess.TimeoutExpired:
                node.kill()
        shutil.rmtree(root, ignore_errors=True)
    if os.path.exists(arguments.qbc):
        print(f"QBC, same window: {arguments.qbc} bench sync --transactions {arguments.transactions}")
        subprocess.run([arguments.qbc, "bench", "sync", "--transactions", str(arguments.transactions)], check=False)
    else:
        print(f"no qbc at {arguments.qbc}: build it with `swift build -c release --product qbc` for the QBC figure")


if __name__ == "__main__":
    main()
