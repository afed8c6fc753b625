public import QBCCore
public import QBCCrypto

/// A peer's view of one chain, for fork choice, with the equivocation evidence it holds.
public struct PeerTip: Sendable, Equatable {
    public let height: UInt64
    public let hash: Hash
    public let cumulativeWork: Int64
    public let evidence: [Equivocation]

    public init(height: UInt64, hash: Hash, cumulativeWork: Int64, evidence: [Equivocation] = []) {
        self.height = height
        self.hash = hash
        self.cumulativeWork = cumulativeWork
        self.evidence = evidence
    }
}

/// What a node pushes to its peers unasked.
public enum PeerPush: Sendable {
    /// Transactions admitted from clients (or orphaned by a fork switch), for a chain.
    case transactions([Transaction], chain: ChainID)
    /// A Quant this node sealed.
    case quant(Quant)
    /// A new chain's Bang.
    case bang(Bang)
    /// BFT: proposals and votes, for the chain's other authorities.
    case consensus([BFTHeight.Message], chain: ChainID)
}

/// A push encoded once by the transport, then sent to any number of peers.
public struct PreparedPush: Sendable {
    public let push: PeerPush
    /// The transport's encoding (empty for transports that need none).
    public let body: [UInt8]

    public init(push: PeerPush, body: [UInt8]) {
        self.push = push
        self.body = body
    }
}

/// A peer answered, but with what no honest node sends: an answer that does not decode, or one
/// past the bounds on what this node reads. Sync charges the peer for it, as for a wrong page.
public struct PeerAnswerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// How the node reaches other nodes. QBCNode declares it; the server implements it over HTTP
/// with every request signed (`qbc/peer-request/v1`), the simulator over a simulated network.
/// Every call has a timeout.
public protocol PeerTransport: Sendable {
    /// Registers with the node at `address`; returns its peer list (its own registration included).
    func register(_ registration: Registration, at address: String) async throws -> [Registration]
    /// Encodes a push once for every peer it goes to.
    func prepare(_ push: PeerPush) -> PreparedPush
    /// Sends a prepared push to one peer.
    func send(_ push: PreparedPush, to peer: Registration) async throws
    func tip(chain: ChainID, of peer: Registration) async throws -> PeerTip
    /// Up to `limit` headers from `height` upward (for finding a common ancestor cheaply).
    func headers(chain: ChainID, from height: UInt64, limit: Int, of peer: Registration) async throws -> [QuantHeader]
    /// Up to `limit` Quants from `height` upward, with their transactions.
    func quants(chain: ChainID, from height: UInt64, limit: Int, of peer: Registration) async throws -> [Quant]
    /// A chain's Bang, from a peer that serves it (only to the chain's node members).
    func bang(chain: ChainID, of peer: Registration) async throws -> Bang
}
