import QBCCrypto

extension Transaction {
    /// The stored and binary wire form: the signing bytes followed by the 64-byte signature.
    public var encoded: [UInt8] {
        // One buffer of the final size: stores and pushes build this for every transaction.
        var w = CanonicalWriter(capacity: encodedSize)
        body.write(to: &w)
        w.fixed(signature.bytes)
        return w.bytes
    }

    /// Decodes `encoded`, refusing fields longer than `limits` allow. Does not verify the signature.
    public init(decoding bytes: [UInt8], limits: TransactionLimits) throws(CanonicalReader.DecodingError) {
        var fields = RecentFields.none
        try self.init(decoding: bytes, limits: limits, sharing: &fields)
    }

    /// The same, sharing fields with transactions decoded before with `fields` (a loader of many).
    public init(decoding bytes: [UInt8], limits: TransactionLimits, sharing fields: inout RecentFields) throws(CanonicalReader.DecodingError) {
        var r = CanonicalReader(bytes)
        try self.init(reading: &r, limits: limits, sharing: &fields)
        try r.finish()
    }

    /// The media type of a binary batch: a `u32` count, then that many binary forms back to back.
    public static let batchContentType = "application/vnd.qbc.tx-batch"

    /// Encodes a binary batch (documentation/protocol.md, "Binary batches").
    public static func encodeBatch(_ transactions: [Transaction]) -> [UInt8] {
        var w = CanonicalWriter(capacity: transactions.reduce(4) { $0 + $1.encodedSize })
        w.u32(UInt32(transactions.count))
        for tx in transactions {
            tx.body.write(to: &w)
            w.fixed(tx.signature.bytes)
        }
        return w.bytes
    }

    /// Decodes a binary batch of at most `maxCount` transactions.
    public static func decodeBatch(_ bytes: [UInt8], limits: TransactionLimits, maxCount: Int) throws(CanonicalReader.DecodingError)
        -> [Transaction]
    {
        var r = CanonicalReader(bytes)
        let count = Int(try r.u32())
        guard count <= maxCount else { throw .tooLong(at: 0, limit: maxCount) }
        return try decodeRun(count, from: &r, limits: limits, finish: true)
    }

    /// Reads `count` transactions back to back (a batch, or a Quant's in a page).
    static func decodeRun(_ count: Int, from r: inout CanonicalReader, limits: TransactionLimits, finish: Bool)
        throws(CanonicalReader.DecodingError) -> [Transaction]
    {
        var transactions = [Transaction]()
        transactions.reserveCapacity(count)
        var fields = RecentFields()
        for _ in 0..<count { transactions.append(try Transaction(reading: &r, limits: limits, sharing: &fields)) }
        if finish { try r.finish() }
        return transactions
    }

    /// The chains, senders and content types decoded last, for the next transactions to share:
    /// a batch, a Quant or a mempool holds a few of each many times over, and each copy was an
    /// allocation to make and free again (issue 18). A handful of senders, not just the last one:
    /// a node's traffic interleaves its clients.
    public struct RecentFields: Sendable {
        var chains: RecentValues<ChainID>
        var senders: RecentValues<PublicKey>
        var contentTypes: RecentValues<String>

        /// 2 chains, 8 senders and 4 content types.
        public init() { self.init(chains: 2, senders: 8, contentTypes: 4) }

        private init(chains: Int, senders: Int, contentTypes: Int) {
            self.chains = RecentValues(capacity: chains)
            self.senders = RecentValues(capacity: senders)
            self.contentTypes = RecentValues(capacity: contentTypes)
        }

        /// Shares and remembers nothing: for a decoder of one transaction, which would only pay
        /// for the lists.
        public static var none: RecentFields { RecentFields(chains: 0, senders: 0, contentTypes: 0) }
    }

    /// Reads one binary form, sharing repeated fields through `fields`. The id is hashed from the
    /// bytes just read.
    init(reading r: inout CanonicalReader, limits: TransactionLimits, sharing fields: inout RecentFields)
        throws(CanonicalReader.DecodingError)
    {
        let start = r.offset
        try r.expect(.transaction)
        let chain = try r.fixed(Hash.self, among: &fields.chains)
        let sender = try r.fixed(PublicKey.self, among: &fields.senders)
        let nonce = Nonce(unchecked: try r.fixed(Nonce.byteCount))
        let timestamp = Timestamp(milliseconds: try r.u64())
        let contentType = try r.string8(among: &fields.contentTypes)
        let payload = try r.bytes32(limit: limits.maxPayloadBytes)
        let id = r.blake2b(start..<r.offset)
        let signature = Signature(unchecked: try r.fixed(Signature.byteCount))
        let body = Body(
            chain: chain, sender: sender, nonce: nonce, timestamp: timestamp, contentType: contentType,
            payload: payload)
        self.init(body: body, signature: signature, id: id)
    }
}
