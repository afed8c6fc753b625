public import QBCCrypto

/// A signed request to trigger a Leap from off the node's machine (`qbc/leap/v1`).
///
/// Signing bytes: tag, chain id (32), signer public key (32), timestamp (u64 ms).
/// The node accepts it from an admin or authority of the chain within ±60 s of its clock.
public struct LeapRequest: Sendable {
    public let chain: ChainID
    public let signer: PublicKey
    public let timestamp: Timestamp
    public let signature: Signature

    public static let windowMilliseconds: Int64 = 60_000

    public init(chain: ChainID, signer: PublicKey, timestamp: Timestamp, signature: Signature) {
        self.chain = chain
        self.signer = signer
        self.timestamp = timestamp
        self.signature = signature
    }

    public init(chain: ChainID, timestamp: Timestamp, key: SigningKey) {
        self.chain = chain
        signer = key.publicKey
        self.timestamp = timestamp
        signature = key.sign(Self.signingBytes(chain: chain, signer: key.publicKey, timestamp: timestamp))
    }

    public static func signingBytes(chain: ChainID, signer: PublicKey, timestamp: Timestamp) -> [UInt8] {
        var w = CanonicalWriter(capacity: 90)
        w.tag(.leap)
        w.fixed(chain.bytes)
        w.fixed(signer.bytes)
        w.u64(timestamp.milliseconds)
        return w.bytes
    }

    /// Checks chain, freshness and signature; the caller checks the signer's role.
    public func check(chain expected: ChainID, now: Timestamp) throws(RuleError) {
        guard chain == expected else { throw RuleError(.wrongChain, "the Leap request names another chain") }
        let skew = now.milliseconds(since: timestamp)
        guard skew.magnitude <= UInt64(Self.windowMilliseconds) else {
            throw RuleError(.timestampTooOld, "the Leap request's timestamp is more than 60 s from the node's clock")
        }
        guard signer.verify(signature, over: Self.signingBytes(chain: chain, signer: signer, timestamp: timestamp)) else {
            throw RuleError(.badSignature, "the Leap request's signature does not verify (qbc/leap/v1)")
        }
    }
}
