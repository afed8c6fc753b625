import QBCCrypto

extension Transaction {
    /// The stored and binary wire form: the signing bytes followed by the 64-byte signature.
    public var encoded: [UInt8] { body.signingBytes + signature.bytes }

    /// Decodes `encoded`, refusing fields longer than `limits` allow. Does not verify the signature.
    public init(decoding bytes: [UInt8], limits: TransactionLimits) throws(CanonicalReader.DecodingError) {
        var r = CanonicalReader(bytes)
        try self.init(reading: &r, limits: limits)
        try r.finish()
    }

    /// The media type of a binary batch: a `u32` count, then that many binary forms back to back.
    public static let batchContentType = "application/vnd.qbc.tx-batch"

    /// Encodes a binary batch (documentation/protocol.md, "Binary batches").
    public static func encodeBatch(_ transactions: [Transaction]) -> [UInt8] {
        var w = CanonicalWriter(capacity: transactions.reduce(4) { $0 + $1.encodedSize })
        w.u32(UInt32(transactions.count))
        for tx in transactions { w.fixed(tx.encoded) }
        return w.bytes
    }

    /// Decodes a binary batch of at most `maxCount` transactions.
    public static func decodeBatch(_ bytes: [UInt8], limits: TransactionLimits, maxCount: Int) throws(CanonicalReader.DecodingError)
        -> [Transaction]
    {
        var r = CanonicalReader(bytes)
        let count = Int(try r.u32())
        guard count <= maxCount else { throw .tooLong(at: 0, limit: maxCount) }
        var transactions = [Transaction]()
        transactions.reserveCapacity(count)
        for _ in 0..<count { transactions.append(try Transaction(reading: &r, limits: limits)) }
        try r.finish()
        return transactions
    }

    init(reading r: inout CanonicalReader, limits: TransactionLimits) throws(CanonicalReader.DecodingError) {
        try r.expect(.transaction)
        let chain = Hash(unchecked: try r.fixed(Hash.byteCount))
        let sender = PublicKey(unchecked: try r.fixed(PublicKey.byteCount))
        let nonce = Nonce(unchecked: try r.fixed(Nonce.byteCount))
        let timestamp = Timestamp(milliseconds: try r.u64())
        let contentType = try r.string8()
        let payload = try r.bytes32(limit: limits.maxPayloadBytes)
        let signature = Signature(unchecked: try r.fixed(Signature.byteCount))
        let body = Body(
            chain: chain, sender: sender, nonce: nonce, timestamp: timestamp, contentType: contentType,
            payload: payload)
        self.init(body: body, signature: signature)
    }
}
