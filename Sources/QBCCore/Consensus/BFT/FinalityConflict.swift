public import QBCCrypto

/// Two Quants at one height of one BFT chain, each with a commit certificate that verifies:
/// proof that more than f authorities broke the rules, since honest ones never precommit two
/// Quants that could both gather a quorum (consensus.md, "BFT"). The authorities that signed
/// both certificates are refused from then on.
public struct FinalityConflict: Sendable, Hashable {
    /// The two, lower hash first, so one pair is one piece of evidence.
    public let first: Quant
    public let second: Quant

    public var chain: ChainID { first.header.chain }
    public var height: UInt64 { first.header.height }

    /// Evidence from two certified Quants, or nil when they prove nothing: another chain or
    /// height, the same Quant, or a certificate missing or not a quorum of `authorities` (those of
    /// the membership after height − 1).
    public init?(_ a: Quant, _ b: Quant, authorities: [PublicKey]) {
        guard a.header.chain == b.header.chain, a.header.height == b.header.height, a.hash != b.hash,
            let ca = a.certificate, let cb = b.certificate,
            (try? ca.check(header: a.header, hash: a.hash, authorities: authorities)) != nil,
            (try? cb.check(header: b.header, hash: b.hash, authorities: authorities)) != nil
        else { return nil }
        // Only the headers and certificates matter: transactions are not kept.
        let (x, y) = (Quant(header: a.header, transactions: [], certificate: ca), Quant(header: b.header, transactions: [], certificate: cb))
        (first, second) = a.hash < b.hash ? (x, y) : (y, x)
    }

    /// The authorities that signed both certificates.
    public var signers: [PublicKey] {
        guard let a = first.certificate, let b = second.certificate else { return [] }
        return a.commonSigners(with: b)
    }

    /// Stored form: per Quant its header's stored form and its certificate (each `bytes32`).
    public var encoded: [UInt8] {
        var w = CanonicalWriter(capacity: 1024)
        for quant in [first, second] {
            w.bytes32(quant.header.encoded)
            w.bytes32(quant.certificate?.encoded ?? [])
        }
        return w.bytes
    }

    /// Decodes the stored form; the certificates are not checked again (they were when stored).
    public init(decoding bytes: [UInt8]) throws(CanonicalReader.DecodingError) {
        var r = CanonicalReader(bytes)
        var quants = [Quant]()
        for _ in 0..<2 {
            let header = try QuantHeader(decoding: try r.bytes32(limit: 1024))
            let certificate = try CommitCertificate(decoding: try r.bytes32(limit: 6 + 96 * BFTEngine.maxAuthorities))
            quants.append(Quant(header: header, transactions: [], certificate: certificate))
        }
        try r.finish()
        (first, second) = (quants[0], quants[1])
    }
}

extension Equivocators {
    /// Records the authorities that signed both certificates of a conflict; true when that changed anything.
    @discardableResult
    public mutating func record(_ conflict: FinalityConflict) -> Bool {
        var changed = false
        for signer in conflict.signers where (self[signer] ?? .max) > conflict.height {
            self[signer] = conflict.height
            changed = true
        }
        return changed
    }
}
