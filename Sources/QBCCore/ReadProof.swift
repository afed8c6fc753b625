public import QBCCrypto

/// Proof of key for reading a readers-only chain (`qbc/read-proof/v1`, documentation/locks.md):
/// the reader signs a fresh, single-use server nonce bound to the chain and the exact request.
/// It proves possession of the reader's secret key without revealing it; it does reveal which
/// reader asked.
public enum ReadProof {
    public static let nonceBytes = 32

    /// Layout: documentation/locks.md, "Proof-of-key read access".
    public static func signingBytes(reader: PublicKey, chain: ChainID, nonce: [UInt8], method: String, path: String) -> [UInt8] {
        var w = CanonicalWriter(capacity: 128 + path.utf8.count)
        w.tag(.readProof)
        w.fixed(reader.bytes)
        w.fixed(chain.bytes)
        w.fixed(nonce)
        w.string8(method)
        w.string16(path)
        return w.bytes
    }

    public static func sign(key: SigningKey, chain: ChainID, nonce: [UInt8], method: String, path: String) -> Signature {
        key.sign(signingBytes(reader: key.publicKey, chain: chain, nonce: nonce, method: method, path: path))
    }

    /// Checks the signature and the reader role; the caller has already consumed the nonce.
    public static func check(
        reader: PublicKey, signature: Signature, chain: ChainID, nonce: [UInt8], method: String, path: String,
        membership: Membership
    ) throws(RuleError) {
        guard nonce.count == nonceBytes, method.utf8.count <= 16, path.utf8.count <= Int(UInt16.max) else {
            throw RuleError(.badSignature, "the read proof is malformed")
        }
        guard reader.verify(signature, over: signingBytes(reader: reader, chain: chain, nonce: nonce, method: method, path: path)) else {
            throw RuleError(.badSignature, "the read proof does not verify (qbc/read-proof/v1 over this chain, nonce and request)")
        }
        guard membership.holds(reader, .reader) else {
            throw RuleError(.notAuthorized, "key \(reader.hex) does not hold the reader role on this chain")
        }
    }
}
