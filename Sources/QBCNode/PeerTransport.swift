public import QBCCore
public import QBCCrypto

/// A peer's view of one chain, for fork choice.
public struct PeerTip: Sendable, Equatable {
    public let height: UInt64
    public let hash: Hash
    public let cumulativeWork: Int64

    public init(height: UInt64, hash: Hash, cumulativeWork: Int64) {
        self.height = height
        self.hash = hash
        self.cumulativeWork = cumulativeWork
    }
}

/// How the node reaches other nodes. QBCNode declares it; the server implements it over HTTP
/// with every request signed (`qbc/peer-request/v1`). Every call has a timeout.
public protocol PeerTransport: Sendable {
    /// Registers with the node at `address`; returns its peer list (its own registration included).
    func register(_ registration: Registration, at address: String) async throws -> [Registration]
    /// Pushes transactions to every peer at once, encoding them once; returns the peers that failed.
    func pushTransactions(_ transactions: [Transaction], chain: ChainID, to peers: [Registration]) async -> [PublicKey]
    /// Pushes a new Quant to every peer at once, encoding it once; returns the peers that failed.
    func pushQuant(_ quant: Quant, to peers: [Registration]) async -> [PublicKey]
    func tip(chain: ChainID, of peer: Registration) async throws -> PeerTip
    /// Pushes a new chain's Bang to peers at once; returns the peers that failed.
    func pushBang(_ bang: Bang, to peers: [Registration]) async -> [PublicKey]
    /// A chain's Bang, from a peer that serves it (only to the chain's node members).
    func bang(chain: ChainID, of peer: Registration) async throws -> Bang
    /// Up to `limit` Quants from `height` upward, with their transactions.
    func quants(chain: ChainID, from height: UInt64, limit: Int, of peer: Registration) async throws -> [Quant]
}
