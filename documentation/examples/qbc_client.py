#!/usr/bin/env python3
"""A QBC client written from documentation/protocol.md alone, with PyNaCl and the standard library.

    python3 qbc_client.py vectors            # print the protocol.md transaction vectors as JSON
    python3 qbc_client.py network-vectors    # registration and peer-request vectors
    python3 qbc_client.py bft-vectors        # BFT vote, proposal and certificate vectors
    python3 qbc_client.py chain-vectors      # Bang, fork Bang and membership change vectors
    python3 qbc_client.py submit URL SEEDHEX CHAINHEX JSON   # sign and POST /inject

Only PyNaCl (pip install pynacl) is needed; nothing here imports QBC code.
"""
import base64
import hashlib
import json
import os
import struct
import sys
import time
import urllib.request

from nacl.signing import SigningKey

TX_TAG = b"qbc/tx/v1\x00"


def signing_bytes(chain: bytes, sender: bytes, nonce: bytes, timestamp_ms: int,
                  content_type: str, payload: bytes) -> bytes:
    ct = content_type.encode("ascii")
    assert len(chain) == 32 and len(sender) == 32 and len(nonce) == 16 and 1 <= len(ct) <= 127
    return (TX_TAG + chain + sender + nonce + struct.pack(">Q", timestamp_ms)
            + struct.pack(">B", len(ct)) + ct + struct.pack(">I", len(payload)) + payload)


def sign_transaction(seed: bytes, chain: bytes, payload: bytes, content_type="application/json",
                     nonce=None, timestamp_ms=None) -> dict:
    key = SigningKey(seed)
    sender = bytes(key.verify_key)
    nonce = nonce if nonce is not None else os.urandom(16)
    timestamp_ms = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    message = signing_bytes(chain, sender, nonce, timestamp_ms, content_type, payload)
    signature = key.sign(message).signature
    return {
        "id": hashlib.blake2b(message, digest_size=32).hexdigest(),
        "chain": chain.hex(),
        "sender": sender.hex(),
        "nonce": nonce.hex(),
        "timestamp": timestamp_ms,
        "contentType": content_type,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signature": signature.hex(),
        "_signingBytes": message.hex(),
    }


VECTOR_INPUTS = [
    # seed byte, chain id, nonce, timestamp, content type, payload
    (0x01, bytes(32), bytes(16), 0, "application/json", b'{}'),
    (0x02, hashlib.blake2b(b"qbc vector chain", digest_size=32).digest(), bytes(range(16)),
     1764115200000, "application/json", b'{"temperature":21.5,"unit":"C"}'),
    (0x03, bytes([0xab] * 32), bytes([0xff] * 16), 1795677193356, "application/octet-stream",
     bytes(range(256))),
]


def registration_bytes(node: bytes, address: str, chains: list, timestamp_ms: int) -> bytes:
    a = address.encode()
    return (b"qbc/register/v1\x00" + node + struct.pack(">B", len(a)) + a + struct.pack(">B", len(chains))
            + b"".join(chains) + struct.pack(">Q", timestamp_ms))


def peer_request_bytes(node: bytes, timestamp_ms: int, method: str, path: str, body: bytes) -> bytes:
    m, p = method.encode(), path.encode()
    return (b"qbc/peer-request/v1\x00" + node + struct.pack(">Q", timestamp_ms) + struct.pack(">B", len(m)) + m
            + struct.pack(">H", len(p)) + p + hashlib.blake2b(body, digest_size=32).digest())


def network_vectors() -> dict:
    key = SigningKey(bytes([0x04] * 32))
    node = bytes(key.verify_key)
    chains = [hashlib.blake2b(b"qbc vector chain", digest_size=32).digest()]
    reg = registration_bytes(node, "http://127.0.0.1:5001", chains, 1764115200000)
    req = peer_request_bytes(node, 1764115200000, "POST", "/peer/quants", b'{"x":1}')
    return {
        "seed": (bytes([0x04] * 32)).hex(), "node": node.hex(),
        "registration": {"address": "http://127.0.0.1:5001", "chains": [c.hex() for c in chains],
                         "timestamp": 1764115200000, "signingBytes": reg.hex(),
                         "signature": key.sign(reg).signature.hex()},
        "peerRequest": {"timestamp": 1764115200000, "method": "POST", "path": "/peer/quants", "body": '{"x":1}',
                        "signingBytes": req.hex(), "signature": key.sign(req).signature.hex()},
    }


def vote_bytes(kind: str, chain: bytes, height: int, round_: int, quant) -> bytes:
    """What a BFT vote's signature covers (protocol.md, "BFT votes, proposals and certificates")."""
    tag = b"qbc/bft-prevote/v1\x00" if kind == "prevote" else b"qbc/bft-precommit/v1\x00"
    return tag + chain + struct.pack(">QI", height, round_) + (b"\x01" + quant if quant else b"\x00")


def bft_vectors() -> dict:
    keys = [SigningKey(bytes([b] * 32)) for b in range(0x11, 0x15)]
    pub = [bytes(k.verify_key) for k in keys]
    chain = hashlib.blake2b(b"qbc bft vector chain", digest_size=32).digest()
    signing = (b"qbc/quant/v1\x00" + chain + struct.pack(">Q", 1) + chain + struct.pack(">Q", 1764115200000)
               + bytes(32) + struct.pack(">I", 0) + pub[1] + struct.pack(">BQ", 1, 0))
    seal = keys[1].sign(signing).signature
    quant = hashlib.blake2b(signing, digest_size=32).digest()
    proposal = b"qbc/bft-proposal/v1\x00" + chain + struct.pack(">QII", 1, 0, 0xFFFFFFFF) + quant

    def vote(kind, key, round_, target):
        signed = vote_bytes(kind, chain, 1, round_, target)
        sig = key.sign(signed).signature
        voter = bytes(key.verify_key)
        encoded = (bytes([1 if kind == "prevote" else 2]) + chain + struct.pack(">QI", 1, round_)
                   + (b"\x01" + target if target else b"\x00") + voter + sig)
        out = {"kind": kind, "round": round_, "voter": voter.hex(), "signingBytes": signed.hex(), "signature": sig.hex(),
               "encoded": encoded.hex()}
        if target:
            out["quant"] = target.hex()
        return out

    precommits = [vote("precommit", k, 0, quant) for k in keys[:3]]
    signers = sorted((bytes.fromhex(p["voter"]), bytes.fromhex(p["signature"])) for p in precommits)
    certificate = struct.pack(">IH", 0, len(signers)) + b"".join(k + s for k, s in signers)
    return {
        "seeds": [bytes([b] * 32).hex() for b in range(0x11, 0x15)], "authorities": [p.hex() for p in pub],
        "chain": chain.hex(), "header": (signing + b"\x01" + seal).hex(), "quant": quant.hex(),
        "proposalSigningBytes": proposal.hex(), "proposalSignature": keys[1].sign(proposal).signature.hex(),
        "prevote": vote("prevote", keys[0], 0, quant), "nilPrevote": vote("prevote", keys[3], 2, None),
        "precommits": precommits, "certificate": certificate.hex(),
    }


def string8(text: str) -> bytes:
    data = text.encode()
    return bytes([len(data)]) + data


def bang_bytes(name: str, timestamp_ms: int, creator: bytes, engine: bytes, members: dict, limits: tuple,
               content_type: str, schema: bytes, quorum: int, leap: tuple, fork, locked: list, readers_only: bool) -> bytes:
    """A Bang's signing bytes (protocol.md, "Bang"); the chain id is their BLAKE2b-256."""
    out = b"qbc/bang/v1\x00" + string8(name) + struct.pack(">Q", timestamp_ms) + creator + engine
    out += struct.pack(">I", len(members)) + b"".join(key + bytes([roles]) for key, roles in sorted(members.items()))
    max_payload, max_age, max_future, max_txs, max_quant_bytes, max_quant_future = limits
    out += struct.pack(">IQQIIQ", max_payload, max_age, max_future, max_txs, max_quant_bytes, max_quant_future)
    out += string8(content_type) + struct.pack(">I", len(schema)) + schema + bytes([quorum]) + struct.pack(">II", *leap)
    out += b"\x00" if fork is None else b"\x01" + fork[0] + struct.pack(">Q", fork[1]) + fork[2]
    out += bytes([len(locked)]) + b"".join(string8(field) for field in locked) + bytes([1 if readers_only else 0])
    return out


def chain_vectors() -> dict:
    """The Bang, fork Bang and membership change of protocol.md's chain vectors, from the seeds."""
    keys = [SigningKey(bytes([b] * 32)) for b in range(0x21, 0x25)]
    admin, writer, authority, reader = (bytes(k.verify_key) for k in keys)
    members = {admin: 1, writer: 2, authority: 8 | 16, reader: 4}
    limits = (4096, 600_000, 120_000, 10_000, 33_554_432, 120_000)
    poa = b"\x02" + struct.pack(">I", 1000)
    schema = b'{"type":"object","required":["sku"],"properties":{"sku":{"type":"string"}}}'
    bang = bang_bytes("orders", 1764115200000, admin, poa, members, limits, "application/json", schema, 1, (500, 1000),
                      None, ["price"], True)
    chain = hashlib.blake2b(bang, digest_size=32).digest()
    fork = bang_bytes("orders-b", 1764115260000, admin, poa, members, limits, "", b"", 1, (500, 1000),
                      (chain, 0, chain), [], False)
    change = b"qbc/member/v1\x00" + chain + b"\x01" + reader + b"\x02" + bytes([0x5A] * 16)
    payload = change + b"\x01" + admin + keys[0].sign(change).signature

    def signed(data: bytes) -> dict:
        return {"signingBytes": data.hex(), "id": hashlib.blake2b(data, digest_size=32).hexdigest(),
                "signature": keys[0].sign(data).signature.hex()}

    return {
        "seeds": [bytes([b] * 32).hex() for b in range(0x21, 0x25)], "keys": [bytes(k.verify_key).hex() for k in keys],
        "bang": signed(bang), "fork": signed(fork),
        "change": {"signingBytes": change.hex(), "id": hashlib.blake2b(change, digest_size=32).hexdigest(),
                   "payload": payload.hex()},
    }


def vectors() -> list:
    out = []
    for seed_byte, chain, nonce, ts, ct, payload in VECTOR_INPUTS:
        seed = bytes([seed_byte] * 32)
        tx = sign_transaction(seed, chain, payload, ct, nonce, ts)
        out.append({"seed": seed.hex(), "publicKey": tx["sender"], "signingBytes": tx.pop("_signingBytes"),
                    "transaction": tx})
    return out


def submit(url: str, seed_hex: str, chain_hex: str, data: str) -> None:
    tx = sign_transaction(bytes.fromhex(seed_hex), bytes.fromhex(chain_hex), data.encode())
    tx.pop("_signingBytes")
    request = urllib.request.Request(url.rstrip("/") + "/inject", data=json.dumps(tx).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        print(response.status, response.read().decode())


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "vectors":
        print(json.dumps(vectors(), indent=2))
    elif len(sys.argv) >= 2 and sys.argv[1] == "network-vectors":
        print(json.dumps(network_vectors(), indent=2))
    elif len(sys.argv) >= 2 and sys.argv[1] == "bft-vectors":
        print(json.dumps(bft_vectors(), indent=2, sort_keys=True))
    elif len(sys.argv) >= 2 and sys.argv[1] == "chain-vectors":
        print(json.dumps(chain_vectors(), indent=2, sort_keys=True))
    elif len(sys.argv) == 6 and sys.argv[1] == "submit":
        submit(*sys.argv[2:])
    else:
        print(__doc__)
        sys.exit(2)
