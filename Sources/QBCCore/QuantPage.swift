/// The binary form of a page of Quants that a peer serves for sync (documentation/protocol.md,
/// "Binary Quant pages"): a `u32` count, then per Quant its encoded header and its certificate
/// (each `u32`-prefixed; an empty certificate is none), a `u32` transaction count and the
/// transactions' binary forms back to back. The serving node writes stored bodies as they are,
/// and the syncing node reads them without JSON, hex or base64 (issue 18).
public enum QuantPage {
    public static let contentType = "application/vnd.qbc.quant-page"

    /// A Quant as stored: its header, certificate and the binary forms of its transactions.
    public struct Part: Sendable {
        public let header: QuantHeader
        public let certificate: CommitCertificate?
        public let transactions: [[UInt8]]

        public init(header: QuantHeader, certificate: CommitCertificate?, transactions: [[UInt8]]) {
            self.header = header
            self.certificate = certificate
            self.transactions = transactions
        }

        /// A decoded Quant's parts, its transactions encoded again.
        public init(_ quant: Quant) {
            self.init(header: quant.header, certificate: quant.certificate, transactions: quant.transactions.map(\.encoded))
        }
    }

    public static func encode(_ parts: [Part]) -> [UInt8] {
        let size = parts.reduce(4) { total, part in total + 4 + 180 + 4 + 4 + part.transactions.reduce(0) { $0 + $1.count } }
        var w = CanonicalWriter(capacity: size + parts.reduce(0) { $0 + ($1.certificate.map { 6 + 96 * $0.signers.count } ?? 0) })
        w.u32(UInt32(parts.count))
        for part in parts {
            w.bytes32(part.header.encoded)
            w.bytes32(part.certificate?.encoded ?? [])
            w.u32(UInt32(part.transactions.count))
            for tx in part.transactions { w.fixed(tx) }
        }
        return w.bytes
    }

    /// The smallest binary form of a transaction (empty content type and payload): no count may
    /// claim more transactions than the bytes left could hold.
    static let smallestTransaction = DomainTag.transaction.bytes.count + 32 + 32 + 16 + 8 + 1 + 4 + 64

    /// The most transactions a page may hold: the server's bound past the first Quant
    /// (`NetworkService.maxPageTransactions`) plus the largest Quant any chain may have.
    public static let maxTransactions = 20_000 + QuantLimits.absoluteMaxTransactions

    /// Decodes a page of at most `maxQuants` Quants and `maxTransactions` transactions, each
    /// transaction under `limits`.
    public static func decode(_ bytes: [UInt8], limits: TransactionLimits, maxQuants: Int) throws(CanonicalReader.DecodingError) -> [Quant] {
        var r = CanonicalReader(bytes)
        let count = Int(try r.u32())
        guard count <= maxQuants else { throw .tooLong(at: 0, limit: maxQuants) }
        var quants = [Quant]()
        var total = 0
        for _ in 0..<count {
            let header = try QuantHeader(decoding: try r.bytes32(limit: 1024))
            let certificateBytes = try r.bytes32(limit: 6 + 96 * BFTEngine.maxAuthorities)
            let certificate = certificateBytes.isEmpty ? nil : try CommitCertificate(decoding: certificateBytes)
            let transactionCount = Int(try r.u32())
            guard transactionCount <= r.remaining / smallestTransaction else { throw .tooLong(at: r.offset, limit: r.remaining / smallestTransaction) }
            total += transactionCount
            guard total <= maxTransactions else { throw .tooLong(at: r.offset, limit: maxTransactions) }
            let transactions = try Transaction.decodeRun(transactionCount, from: &r, limits: limits, finish: false)
            quants.append(Quant(header: header, transactions: transactions, certificate: certificate))
        }
        try r.finish()
        return quants
    }
}
