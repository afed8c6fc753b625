public import QBCCore
public import QBCCrypto

/// `GET /chains/{id}/headers?from=H&limit=N`: Quant headers without their transactions.
public struct HeaderPageJSON: Codable, Sendable {
    public let chain: String
    /// The tip's height.
    public let height: UInt64
    public let from: UInt64
    /// The next page's `from`; absent at the tip.
    public let next: UInt64?
    public let headers: [QuantHeaderJSON]

    public init(chain: ChainID, height: UInt64, from: UInt64, next: UInt64?, headers: [QuantHeaderJSON]) {
        self.chain = chain.hex
        self.height = height
        self.from = from
        self.next = next
        self.headers = headers
    }
}

/// One applied membership change: who, the roles it left them with, and where it committed.
public struct MemberChangeJSON: Codable, Sendable, Equatable {
    public let height: UInt64
    public let change: String
    public let member: String
    /// Role names after the change; empty when the member was removed.
    public let roles: [String]

    public init(height: UInt64, event: MemberEvent) {
        self.height = height
        change = event.change.hex
        member = event.member.hex
        roles = event.roles.names
    }
}

/// `GET /chains/{id}/governance`: the membership changes since the Bang, oldest first.
public struct GovernanceJSON: Codable, Sendable {
    public let chain: String
    public let changes: [MemberChangeJSON]
    /// True when older changes were left out (at most `GovernanceJSON.maxChanges` are listed).
    public let truncated: Bool

    public static let maxChanges = 1000

    public init(chain: ChainID, changes: [MemberChangeJSON], truncated: Bool) {
        self.chain = chain.hex
        self.changes = changes
        self.truncated = truncated
    }
}

/// A peer as this node sees it.
public struct PeerStatusJSON: Codable, Sendable, Equatable {
    public let node: String
    public let address: String
    public let chains: [String]
    /// "reachable", "backing_off" (it failed lately; retried later) or "banned".
    public let state: String
    /// When it last answered a request from this node (milliseconds since the epoch).
    public let lastAnswered: UInt64?
    /// The timestamp of the registration this node holds for it.
    public let registered: UInt64

    public init(registration: Registration, state: String, lastAnswered: Timestamp?) {
        node = registration.node.hex
        address = registration.address
        chains = registration.chains.map(\.hex)
        self.state = state
        self.lastAnswered = lastAnswered?.milliseconds
        registered = registration.timestamp.milliseconds
    }
}

/// `GET /peers`.
public struct PeerStatusListJSON: Codable, Sendable {
    public let peers: [PeerStatusJSON]
    public init(peers: [PeerStatusJSON]) { self.peers = peers }
}

/// How a locked payload is locked, read from its envelope without opening it.
public struct LockSummaryJSON: Codable, Sendable, Equatable {
    /// "recipients", "passphrase" or "threshold".
    public let method: String
    /// The content type of the plaintext.
    public let contentType: String
    /// The recipients or share holders (none for a passphrase).
    public let holders: [String]
    /// Threshold locks: how many shares open it.
    public let threshold: Int?

    public init(_ lock: Lock) {
        contentType = lock.contentType
        switch lock.method {
        case .recipients(let recipients):
            (method, holders, threshold) = ("recipients", recipients.map(\.key.hex), nil)
        case .passphrase:
            (method, holders, threshold) = ("passphrase", [], nil)
        case .threshold(let k, let shares):
            (method, holders, threshold) = ("threshold", shares.map(\.key.hex), k)
        }
    }
}

/// One thing a search names.
public struct SearchHitJSON: Codable, Sendable, Equatable {
    /// "chain", "quant" or "transaction".
    public let kind: String
    public let chain: String
    /// The chain id, the Quant's height or hash, or the transaction id.
    public let ref: String

    public init(kind: String, chain: ChainID, ref: String) {
        self.kind = kind
        self.chain = chain.hex
        self.ref = ref
    }
}

/// `GET /search?q=`.
public struct SearchJSON: Codable, Sendable {
    public let query: String
    public let results: [SearchHitJSON]
    public init(query: String, results: [SearchHitJSON]) {
        self.query = query
        self.results = results
    }
}

/// `GET /chains/{id}/read-keys`: the key set anonymous proofs are made over, at the tip.
public struct ReadKeySetJSON: Codable, Sendable {
    public let chain: String
    public let height: UInt64
    /// The set's hash, sent back as `QBC-Key-Set` with a proof.
    public let set: String
    /// The read keys (ristretto255, hex), in the order a proof lists them.
    public let keys: [String]

    public init(chain: ChainID, height: UInt64, set: ReadKeySet) {
        self.chain = chain.hex
        self.height = height
        self.set = set.hash.hex
        keys = set.keys.map(\.hex)
    }

    /// The set, checked: every key a valid point, and the hash the node named.
    public func readKeySet() throws(WireError) -> ReadKeySet {
        var points = [RistrettoPoint]()
        for key in keys.prefix(AnonymousRead.maxKeys + 1) {
            do { points.append(try RistrettoPoint(validating: try Hex.decode(key, what: "read key"))) } catch {
                throw .malformed("read key \(key) is not a ristretto255 point")
            }
        }
        let decoded = ReadKeySet(points)
        guard decoded.hash.hex == set, decoded.keys.count == keys.count else { throw .malformed("the read key set does not match its hash") }
        return decoded
    }
}
