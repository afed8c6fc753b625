#!/usr/bin/env python3
"""Anonymous reads of a readers-only chain, written from documentation/locks.md ("Anonymous reads")
and protocol.md ("Read keys and anonymous read proofs") alone: libsodium's ristretto255 through
ctypes (PyNaCl has no ristretto255 bindings), BLAKE2b from hashlib.

    python3 qbc_anon.py read-key SEEDHEX                      # the read key of an identity
    python3 qbc_anon.py register URL SEEDHEX CHAINHEX         # register it (the key holds the reader role)
    python3 qbc_anon.py read URL SEEDHEX CHAINHEX PATH        # GET PATH as "some reader"; prints status and body
    python3 qbc_anon.py verify FILE                           # check a proof in JSON (chain, nonce, method, path, keys, set, proof)
    python3 qbc_anon.py vectors                               # the protocol.md vectors, as JSON

Nothing here imports QBC code; qbc_client.py (same folder) signs the registration transaction.
"""
import base64
import ctypes
import ctypes.util
import hashlib
import json
import os
import struct
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qbc_client import sign_transaction  # noqa: E402

_sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
if _sodium.sodium_init() < 0:
    raise SystemExit("libsodium failed to initialise")


def _out():
    return ctypes.create_string_buffer(32)


def reduce64(wide: bytes) -> bytes:
    out = _out()
    _sodium.crypto_core_ristretto255_scalar_reduce(out, wide)
    return out.raw


def hash_to_scalar(message: bytes) -> bytes:
    """BLAKE2b-512 of the message, reduced modulo the group order."""
    return reduce64(hashlib.blake2b(message, digest_size=64).digest())


def base_mult(s: bytes):
    out = _out()
    return out.raw if _sodium.crypto_scalarmult_ristretto255_base(out, s) == 0 else None


def mult(s: bytes, p: bytes):
    out = _out()
    return out.raw if _sodium.crypto_scalarmult_ristretto255(out, s, p) == 0 else None


def point_add(p: bytes, q: bytes) -> bytes:
    out = _out()
    _sodium.crypto_core_ristretto255_add(out, p, q)
    return out.raw


def point_sub(p: bytes, q: bytes) -> bytes:
    out = _out()
    _sodium.crypto_core_ristretto255_sub(out, p, q)
    return out.raw


def scalar_op(name: str, a: bytes, b: bytes) -> bytes:
    out = _out()
    getattr(_sodium, "crypto_core_ristretto255_scalar_" + name)(out, a, b)
    return out.raw


def random_scalar() -> bytes:
    out = _out()
    _sodium.crypto_core_ristretto255_scalar_random(out)
    return out.raw


ORDER = bytes.fromhex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")


def canonical_nonzero(s: bytes) -> bool:
    return len(s) == 32 and int.from_bytes(s, "little") < int.from_bytes(ORDER, "little") and any(s)


def valid_key(point: bytes) -> bool:
    """A canonical encoding of a group element other than the identity (the top bit clear:
    libsodium before 1.0.19 would ignore it)."""
    return (len(point) == 32 and point[31] & 0x80 == 0 and any(point)
            and _sodium.crypto_core_ristretto255_is_valid_point(point) == 1)


def read_secret(seed: bytes) -> bytes:
    return hash_to_scalar(b"qbc/read-secret/v1\x00" + seed)


def read_key(seed: bytes) -> bytes:
    return base_mult(read_secret(seed))


def possession_bytes(chain: bytes, member: bytes, key: bytes) -> bytes:
    return b"qbc/read-key/v1\x00" + chain + member + key


def registration_payload(seed: bytes, chain: bytes, member: bytes, k=None) -> bytes:
    """The read key registration: possession bytes, then R and s of the proof of possession."""
    x, key = read_secret(seed), read_key(seed)
    message = possession_bytes(chain, member, key)
    k = k or random_scalar()
    commitment = base_mult(k)
    e = hash_to_scalar(message + commitment)
    s = scalar_op("add", k, scalar_op("mul", e, x))
    return message + commitment + s


def key_set_hash(keys: list) -> bytes:
    return hashlib.blake2b(b"qbc/read-key-set/v1\x00" + struct.pack(">H", len(keys)) + b"".join(keys), digest_size=32).digest()


def context(chain: bytes, nonce: bytes, method: str, path: str, set_hash: bytes) -> bytes:
    m, p = method.encode(), path.encode()
    return (b"qbc/anon-read/v1\x00" + chain + nonce + struct.pack(">B", len(m)) + m + struct.pack(">H", len(p)) + p
            + set_hash)


def prove(seed: bytes, keys: list, ctx: bytes, random=random_scalar) -> bytes:
    """The one-of-n proof: c1..cn then s1..sn. `keys` in the set's order (sorted bytes)."""
    x = read_secret(seed)
    index = keys.index(base_mult(x))
    n = len(keys)
    c, s, commitments = [None] * n, [None] * n, [None] * n
    for j in range(n):
        if j == index:
            continue
        c[j], s[j] = random(), random()
        commitments[j] = point_sub(base_mult(s[j]), mult(c[j], keys[j]))
    r = random()
    commitments[index] = base_mult(r)
    total = hash_to_scalar(ctx + b"".join(commitments))
    own = total
    for j in range(n):
        if j != index:
            own = scalar_op("sub", own, c[j])
    c[index] = own
    s[index] = scalar_op("add", r, scalar_op("mul", own, x))
    return b"".join(c) + b"".join(s)


def verify(proof: bytes, keys: list, ctx: bytes) -> bool:
    n = len(keys)
    if n == 0 or len(proof) != 64 * n or not all(valid_key(k) for k in keys):
        return False
    scalars = [proof[32 * i:32 * i + 32] for i in range(2 * n)]
    if not all(canonical_nonzero(s) for s in scalars):
        return False
    c, s = scalars[:n], scalars[n:]
    total, commitments = bytes(32), []
    for j in range(n):
        commitments.append(point_sub(base_mult(s[j]), mult(c[j], keys[j])))
        total = scalar_op("add", total, c[j])
    return total == hash_to_scalar(ctx + b"".join(commitments))


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def anonymous_read(url: str, seed: bytes, chain_hex: str, path: str):
    """GET path (e.g. /chains/ID/tx/TXID) with an anonymous proof; returns (status, body)."""
    challenge = get_json(f"{url}/chains/{chain_hex}/challenge")
    keyset = get_json(f"{url}/chains/{chain_hex}/read-keys")
    keys = [bytes.fromhex(k) for k in keyset["keys"]]
    if not all(valid_key(k) for k in keys):
        raise SystemExit("the node's key set holds an invalid read key")
    set_hash = key_set_hash(keys)
    if set_hash.hex() != keyset["set"]:
        raise SystemExit("the node's key set does not hash to the set it names")
    nonce = bytes.fromhex(challenge["nonce"])
    proof = prove(seed, keys, context(bytes.fromhex(chain_hex), nonce, "GET", path, set_hash))
    request = urllib.request.Request(url + path, headers={
        "QBC-Key-Set": set_hash.hex(), "QBC-Nonce": challenge["nonce"],
        "QBC-Anonymous-Proof": base64.b64encode(proof).decode()})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def vector_scalars(label: bytes):
    """Deterministic stand-ins for random scalars, so the vectors can be reproduced."""
    counter = [0]

    def next_scalar():
        counter[0] += 1
        return hash_to_scalar(label + struct.pack(">I", counter[0]))
    return next_scalar


def vectors() -> dict:
    chain = hashlib.blake2b(b"qbc vector chain", digest_size=32).digest()
    seeds = [bytes([b] * 32) for b in (0x11, 0x12, 0x13)]
    from nacl.signing import SigningKey
    members = [bytes(SigningKey(seed).verify_key) for seed in seeds]
    registration = registration_payload(seeds[0], chain, members[0], k=hash_to_scalar(b"qbc read-key vector"))
    keys = sorted(read_key(seed) for seed in seeds)
    set_hash = key_set_hash(keys)
    nonce = bytes(range(32))
    path = f"/chains/{chain.hex()}/tx/{'00' * 32}"
    ctx = context(chain, nonce, "GET", path, set_hash)
    proof = prove(seeds[1], keys, ctx, random=vector_scalars(b"qbc anon vector"))
    assert verify(proof, keys, ctx)
    return {
        "chain": chain.hex(),
        "readers": [{"seed": seed.hex(), "member": m.hex(), "readSecret": read_secret(seed).hex(), "readKey": read_key(seed).hex()}
                    for seed, m in zip(seeds, members)],
        "registration": {"seed": seeds[0].hex(), "proofNonce": hash_to_scalar(b"qbc read-key vector").hex(),
                         "payload": registration.hex()},
        "keySet": {"keys": [k.hex() for k in keys], "hash": set_hash.hex()},
        "proof": {"prover": seeds[1].hex(), "nonce": nonce.hex(), "method": "GET", "path": path,
                  "context": ctx.hex(), "proof": proof.hex()},
    }


def main():
    args = sys.argv[1:]
    if args[:1] == ["read-key"] and len(args) == 2:
        print(read_key(bytes.fromhex(args[1])).hex())
    elif args[:1] == ["register"] and len(args) == 4:
        url, seed, chain = args[1].rstrip("/"), bytes.fromhex(args[2]), bytes.fromhex(args[3])
        from nacl.signing import SigningKey
        member = bytes(SigningKey(seed).verify_key)
        tx = sign_transaction(seed, chain, registration_payload(seed, chain, member), content_type="application/vnd.qbc.read-key")
        body = json.dumps({k: v for k, v in tx.items() if not k.startswith("_")}).encode()
        request = urllib.request.Request(f"{url}/chains/{chain.hex()}/inject", data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                print(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            print(error.code, error.read().decode())
            sys.exit(1)
    elif args[:1] == ["read"] and len(args) == 5:
        status, body = anonymous_read(args[1].rstrip("/"), bytes.fromhex(args[2]), args[3], args[4])
        print(status)
        print(body)
        sys.exit(0 if status == 200 else 1)
    elif args[:1] == ["verify"] and len(args) == 2:
        with open(args[1]) as f:
            v = json.load(f)
        keys = [bytes.fromhex(k) for k in v["keys"]]
        if key_set_hash(keys).hex() != v["set"]:
            print("the keys do not hash to the set")
            sys.exit(1)
        ctx = context(bytes.fromhex(v["chain"]), bytes.fromhex(v["nonce"]), v["method"], v["path"], bytes.fromhex(v["set"]))
        ok = verify(bytes.fromhex(v["proof"]), keys, ctx)
        print("ok" if ok else "does not verify")
        sys.exit(0 if ok else 1)
    elif args == ["vectors"]:
        print(json.dumps(vectors(), indent=2))
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
