#!/usr/bin/env python3
"""QBC lock envelopes (documentation/locks.md) with PyNaCl only: seal and open.

    python3 qbc_lock.py vectors > vectors.json   # the test vectors of locks.md
    python3 qbc_lock.py open ENVELOPE_HEX CHAIN_HEX SENDER_HEX SEED_HEX [SEED_HEX ...]

Written from locks.md alone, as a check that the document is enough to interoperate.
"""
import json
import os
import struct
import sys

import nacl.bindings as b
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.pwhash import argon2id
from nacl.signing import SigningKey

TAG = b"qbc/lock/v1\x00"


def x25519_public(ed_public: bytes) -> PublicKey:
    return PublicKey(b.crypto_sign_ed25519_pk_to_curve25519(ed_public))


def x25519_private(seed: bytes) -> PrivateKey:
    signing = SigningKey(seed)
    return PrivateKey(b.crypto_sign_ed25519_sk_to_curve25519(signing._signing_key))


def gf_mul(a: int, b_: int) -> int:
    p = 0
    for _ in range(8):
        if b_ & 1:
            p ^= a
        carry = a & 0x80
        a = (a << 1) & 0xFF
        if carry:
            a ^= 0x1B
        b_ >>= 1
    return p


def gf_inv(a: int) -> int:
    result, power, exponent = 1, a, 254
    while exponent:
        if exponent & 1:
            result = gf_mul(result, power)
        power = gf_mul(power, power)
        exponent >>= 1
    return result


def shamir_split(secret: bytes, k: int, n: int) -> list:
    ys = [bytearray(len(secret)) for _ in range(n)]
    for i, byte in enumerate(secret):
        coefficients = [byte] + list(os.urandom(k - 1))
        for share in range(n):
            x, y = share + 1, 0
            for c in reversed(coefficients):
                y = gf_mul(y, x) ^ c
            ys[share][i] = y
    return [(i + 1, bytes(y)) for i, y in enumerate(ys)]


def shamir_combine(shares: list) -> bytes:
    secret = bytearray(len(shares[0][1]))
    for i, (xi, yi) in enumerate(shares):
        basis = 1
        for j, (xj, _) in enumerate(shares):
            if j != i:
                basis = gf_mul(basis, gf_mul(xj, gf_inv(xj ^ xi)))
        for index in range(len(secret)):
            secret[index] ^= gf_mul(yi[index], basis)
    return bytes(secret)


def header(chain: bytes, sender: bytes, content_type: str, method: bytes) -> bytes:
    ct = content_type.encode()
    return TAG + chain + sender + bytes([len(ct)]) + ct + method


def seal(plaintext: bytes, content_type: str, chain: bytes, sender: bytes, recipients=None, threshold=None,
         passphrase=None, ops=1, mem=8192) -> bytes:
    key = os.urandom(32)
    if passphrase is not None:
        salt, wrap_nonce = os.urandom(16), os.urandom(24)
        wrapping = argon2id.kdf(32, passphrase, salt, opslimit=ops, memlimit=mem)
        wrapped = b.crypto_aead_xchacha20poly1305_ietf_encrypt(key, b"", wrap_nonce, wrapping)
        method = bytes([2]) + salt + struct.pack(">QQ", ops, mem) + wrap_nonce + wrapped
    elif threshold is not None:
        method = bytes([3, threshold, len(recipients)])
        for (x, share), pk in zip(shamir_split(key, threshold, len(recipients)), recipients):
            method += pk + bytes([x]) + SealedBox(x25519_public(pk)).encrypt(share)
    else:
        method = bytes([1, len(recipients)])
        for pk in recipients:
            method += pk + SealedBox(x25519_public(pk)).encrypt(key)
    head = header(chain, sender, content_type, method)
    nonce = os.urandom(24)
    ciphertext = b.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, head, nonce, key)
    return head + nonce + struct.pack(">I", len(ciphertext)) + ciphertext


def open_envelope(envelope: bytes, chain: bytes, sender: bytes, seeds=(), passphrase=None) -> bytes:
    assert envelope.startswith(TAG), "not a qbc/lock/v1 envelope"
    at = len(TAG)
    if envelope[at:at + 32] != chain or envelope[at + 32:at + 64] != sender:
        raise ValueError("bound to another chain or sender")
    at += 64
    at += 1 + envelope[at]
    method = envelope[at]
    at += 1
    keys = {SigningKey(s).verify_key.encode(): s for s in seeds}
    if method == 1:
        count = envelope[at]
        at += 1
        key = None
        for _ in range(count):
            pk, sealed = envelope[at:at + 32], envelope[at + 32:at + 112]
            at += 112
            if pk in keys and key is None:
                key = SealedBox(x25519_private(keys[pk])).decrypt(sealed)
    elif method == 2:
        salt, (ops, mem) = envelope[at:at + 16], struct.unpack(">QQ", envelope[at + 16:at + 32])
        wrap_nonce, wrapped = envelope[at + 32:at + 56], envelope[at + 56:at + 104]
        at += 104
        wrapping = argon2id.kdf(32, passphrase, salt, opslimit=ops, memlimit=mem)
        key = b.crypto_aead_xchacha20poly1305_ietf_decrypt(wrapped, b"", wrap_nonce, wrapping)
    else:
        k, count = envelope[at], envelope[at + 1]
        at += 2
        shares = []
        for _ in range(count):
            pk, x, sealed = envelope[at:at + 32], envelope[at + 32], envelope[at + 33:at + 113]
            at += 113
            if pk in keys:
                shares.append((x, SealedBox(x25519_private(keys[pk])).decrypt(sealed)))
        key = shamir_combine(shares[:k])
    head, nonce = envelope[:at], envelope[at:at + 24]
    (length,) = struct.unpack(">I", envelope[at + 24:at + 28])
    ciphertext = envelope[at + 28:at + 28 + length]
    return b.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, head, nonce, key)


def vectors() -> dict:
    seed = lambda n: bytes([n]) * 32
    public = lambda n: SigningKey(seed(n)).verify_key.encode()
    chain = bytes.fromhex("11" * 32)
    sender = public(9)
    plaintext = b'{"secret":"MARKER-7f3a"}'
    out = {"chain": chain.hex(), "sender": sender.hex(), "plaintext": plaintext.decode(), "cases": []}
    for name, kwargs, openers in [
        ("recipients", {"recipients": [public(10), public(11)]}, {"seeds": [seed(11)]}),
        ("threshold 2 of 3", {"recipients": [public(10), public(11), public(12)], "threshold": 2},
         {"seeds": [seed(12), seed(10)]}),
        ("passphrase", {"passphrase": b"correct horse", "ops": 1, "mem": 8192}, {"passphrase": "correct horse"}),
    ]:
        envelope = seal(plaintext, "application/json", chain, sender, **kwargs)
        assert open_envelope(envelope, chain, sender, seeds=openers.get("seeds", ()),
                             passphrase=openers.get("passphrase", "").encode() or None) == plaintext
        out["cases"].append({"name": name, "envelope": envelope.hex(),
                             "openWithSeeds": [s.hex() for s in openers.get("seeds", [])],
                             "passphrase": openers.get("passphrase")})
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["vectors"]:
        print(json.dumps(vectors(), indent=2))
    elif sys.argv[1:2] == ["open"]:
        envelope, chain, sender = (bytes.fromhex(a) for a in sys.argv[2:5])
        sys.stdout.buffer.write(open_envelope(envelope, chain, sender, seeds=[bytes.fromhex(s) for s in sys.argv[5:]]))
    else:
        print(__doc__)
