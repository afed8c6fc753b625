import Logging
public import QBCCore
public import QBCCrypto
import QBCStorage

/// Answers to peers' requests, whatever carries them (HTTP on a node, the simulated network in
/// the simulator). The carrier authenticates the sender; `authorize` decides what it may ask.
extension NetworkService {
    /// Why a peer's request is refused before it is served.
    public enum PeerRefusal: Error, Sendable {
        /// Not an admitted peer.
        case notAdmitted(PublicKey)
        /// Banned for misbehaviour until then.
        case banned(PublicKey, until: Timestamp)
        /// Admitted, but without the node role in the chain asked about (now).
        case notANode(PublicKey, chain: String)
    }

    /// A request from `node` may be served when it is an admitted peer and, for a chain's routes,
    /// holds the node role in that chain now (governance may have removed it).
    public func authorize(_ node: PublicKey, chain: ChainService? = nil) throws(PeerRefusal) {
        if let until = book.bans[node], now() < until { throw .banned(node, until: until) }
        guard book.isAdmitted(node, now: now()) else { throw .notAdmitted(node) }
        if let chain, !chain.membership.holds(node, .node) { throw .notANode(node, chain: chain.rules.name) }
    }

    /// The chain's tip for fork choice, with the equivocation evidence this node holds.
    public nonisolated func tip(of chain: ChainService) async throws(StorageError) -> PeerTip {
        let tip = await chain.peerTip()
        return PeerTip(height: tip.height, hash: tip.hash, cumulativeWork: tip.cumulativeWork, evidence: try await chain.evidence())
    }

    /// Up to `limit` headers from `height`.
    public nonisolated func headers(of chain: ChainService, from height: UInt64, limit: Int) async throws(StorageError) -> [QuantHeader] {
        try await chain.reader.headers(chain: chain.id, from: height, limit: min(limit, Self.maxHeaders)).map(\.header)
    }

    /// Quants from `height` with their transactions: at most `limit` Quants, and past the first,
    /// at most `maxPageTransactions` transactions and `maxPageBytes` bytes, so an answer is bounded.
    public nonisolated func quants(of chain: ChainService, from height: UInt64, limit: Int) async throws(StorageError) -> [Quant] {
        var fields = Transaction.RecentFields()
        return try await page(of: chain, from: height, limit: limit).map { part throws(StorageError) in
            let transactions = try part.transactions.map { bytes throws(StorageError) in
                do { return try Transaction(decoding: bytes, limits: chain.rules.transactionLimits.ceiling, sharing: &fields) } catch {
                    throw StorageError(.corrupt, "a stored transaction of the Quant at height \(part.header.height) does not decode: \(error)")
                }
            }
            return Quant(header: part.header, transactions: transactions, certificate: part.certificate)
        }
    }

    /// The same page as stored, for the binary form (`QuantPage`): no transaction is decoded.
    public nonisolated func page(of chain: ChainService, from height: UInt64, limit: Int) async throws(StorageError) -> [QuantPage.Part] {
        let headers = try await chain.reader.headers(chain: chain.id, from: height, limit: limit)
        var parts = [QuantPage.Part]()
        var (transactions, bytes) = (0, 0)
        for stored in headers {
            let count = Int(stored.header.transactionCount)
            if !parts.isEmpty, transactions + count > Self.maxPageTransactions { break }
            let body = try await chain.reader.encodedTransactions(chain: chain.id, height: stored.header.height, from: 0, limit: .max, maxBytes: .max)
            let size = body.reduce(0) { $0 + $1.count }
            if !parts.isEmpty, bytes + size > Self.maxPageBytes { break }
            parts.append(QuantPage.Part(header: stored.header, certificate: stored.certificate, transactions: body))
            transactions += count
            bytes += size
        }
        return parts
    }

    /// Transactions gossiped by a peer: admitted like a client's, but not relayed again (full mesh).
    public nonisolated func receivedTransactions(_ transactions: [Transaction], on chain: ChainService) async throws(StorageError)
        -> [AdmissionOutcome]
    {
        try await chain.admit(transactions, now: now(), relay: false)
    }

    /// Most headers per answer.
    public static let maxHeaders = 1024
    /// Most transactions and bytes (binary forms) in one page of Quants, past its first Quant.
    public static let maxPageTransactions = 20_000
    public static let maxPageBytes = 16 * 1024 * 1024
}
