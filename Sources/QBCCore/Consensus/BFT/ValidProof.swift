public import QBCCrypto

/// The Quant a quorum prevoted for in a round this node saw (its "valid value"), with those
/// prevotes. Kept across a crash, so that a node locked on a Quant can still propose it and show
/// peers why (consensus.md, "Restarts"); without it, locked nodes that lost the Quant and peers
/// that never saw the quorum could wait on each other forever.
public struct ValidProof: Sendable {
    public let round: UInt32
    public let quant: Quant
    public let prevotes: [Vote]

    public var height: UInt64 { quant.header.height }

    public init(round: UInt32, quant: Quant, prevotes: [Vote]) {
        self.round = round
        self.quant = quant
        self.prevotes = prevotes
    }

    /// Layout: round (u32), the header's stored form (bytes32), the transaction count (u32) and
    /// each transaction's binary form (bytes32), the prevote count (u16) and each vote's bytes.
    public var encoded: [UInt8] {
        var w = CanonicalWriter(capacity: 256 + quant.transactions.reduce(0) { $0 + $1.encodedSize + 4 } + 214 * prevotes.count)
        w.u32(round)
        w.bytes32(quant.header.encoded)
        w.u32(UInt32(quant.transactions.count))
        for tx in quant.transactions { w.bytes32(tx.encoded) }
        w.u16(UInt16(truncatingIfNeeded: prevotes.count))
        for vote in prevotes { vote.write(to: &w) }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(CanonicalReader.DecodingError) {
        var r = CanonicalReader(bytes)
        round = try r.u32()
        let header = try QuantHeader(decoding: try r.bytes32(limit: 1024))
        let count = Int(try r.u32())
        guard count <= QuantLimits.absoluteMaxTransactions else { throw .tooLong(at: r.offset, limit: QuantLimits.absoluteMaxTransactions) }
        var transactions = [Transaction]()
        for _ in 0..<count {
            transactions.append(try Transaction(
                decoding: try r.bytes32(limit: TransactionLimits.absoluteMaxPayloadBytes + 4096), limits: TransactionLimits.standard.ceiling))
        }
        quant = Quant(header: header, transactions: transactions)
        let votes = Int(try r.u16())
        guard votes <= BFTEngine.maxAuthorities else { throw .tooLong(at: r.offset, limit: BFTEngine.maxAuthorities) }
        var prevotes = [Vote]()
        for _ in 0..<votes { prevotes.append(try Vote(reading: &r)) }
        self.prevotes = prevotes
        try r.finish()
    }
}
