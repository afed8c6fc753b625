public import QBCCore
import QBCCrypto

/// `{ "error": code, "message": text }`: every error the HTTP API returns.
public struct ErrorJSON: Codable, Sendable, Equatable {
    public let error: String
    public let message: String
    public let id: String?

    public init(error: String, message: String, id: String? = nil) {
        self.error = error
        self.message = message
        self.id = id
    }
}

/// The verdict on one transaction of a `POST /inject`.
public struct InjectResultJSON: Codable, Sendable {
    public let id: String?
    /// "admitted" or "rejected".
    public let status: String
    public let error: String?
    public let message: String?

    public init(id: String?, status: String, error: String? = nil, message: String? = nil) {
        self.id = id
        self.status = status
        self.error = error
        self.message = message
    }
}

/// The answer to a batch `POST /inject` (a JSON array of transactions).
public struct InjectBatchJSON: Codable, Sendable {
    public let admitted: Int
    public let rejected: Int
    public let results: [InjectResultJSON]

    public init(results: [InjectResultJSON]) {
        self.results = results
        admitted = results.filter { $0.status == "admitted" }.count
        rejected = results.count - admitted
    }
}

/// Only the counts of a batch answer (`InjectBatchJSON` without its verdicts), for load
/// generators: on the node's own machine, decoding a thousand verdicts per answer took CPU from
/// the node they measure.
public struct InjectCountsJSON: Decodable, Sendable {
    public let admitted: Int
    public let rejected: Int
}

/// A Quant header with the chain totals up to it.
public struct QuantHeaderJSON: Codable, Sendable, Equatable {
    public let hash: String
    public let chain: String
    public let height: UInt64
    public let previous: String
    public let timestamp: UInt64
    public let merkleRoot: String
    public let transactionCount: UInt32
    public let proposer: String
    public let difficultyBits: UInt8
    public let nonce: UInt64
    /// Proof of authority: the proposer's signature over the header (hex); absent under proof of work.
    public let seal: String?
    public let cumulativeWork: Int64
    public let cumulativeTransactions: Int64
    /// BFT: the commit certificate's bytes, hex (documentation/protocol.md, "Commit certificate").
    public let certificate: String?
    /// True when no fork can replace the Quant (BFT); absent in peer pages.
    public let final: Bool?
    /// Quants from this one to the tip, this one included; absent in peer pages.
    public let confirmations: UInt64?

    public init(
        header h: QuantHeader, cumulativeWork: Int64, cumulativeTransactions: Int64, certificate: CommitCertificate? = nil,
        finality: Finality? = nil
    ) {
        hash = h.hash.hex
        chain = h.chain.hex
        height = h.height
        previous = h.previous.hex
        timestamp = h.timestamp.milliseconds
        merkleRoot = h.merkleRoot.hex
        transactionCount = h.transactionCount
        proposer = h.proposer.hex
        difficultyBits = h.difficultyBits
        nonce = h.nonce
        seal = h.seal?.hex
        self.cumulativeWork = cumulativeWork
        self.cumulativeTransactions = cumulativeTransactions
        self.certificate = certificate.map { Hex.encode($0.encoded) }
        final = finality?.final
        confirmations = finality?.confirmations
    }

    /// A stored header as clients read it, with its finality against the chain's tip.
    public init(_ stored: some StoredHeaderView, tipHeight: UInt64, finalCommits: Bool) {
        self.init(
            header: stored.header, cumulativeWork: stored.cumulativeWork, cumulativeTransactions: stored.cumulativeTransactions,
            certificate: stored.certificate, finality: Finality(height: stored.header.height, tipHeight: tipHeight, finalCommits: finalCommits))
    }

    /// The certificate, decoded (nil when absent); malformed bytes are refused.
    public func commitCertificate() throws(WireError) -> CommitCertificate? {
        guard let certificate else { return nil }
        guard certificate.utf8.count <= 2 * (6 + 96 * BFTEngine.maxAuthorities) else { throw .tooLarge("a commit certificate is too long") }
        do { return try CommitCertificate(decoding: try Hex.decode(certificate)) } catch {
            throw .malformed("certificate must be the hex of a commit certificate (documentation/protocol.md, \"Commit certificate\")")
        }
    }

    /// Rebuilds the core header, so a client can recompute and check the hash.
    public func quantHeader() throws(WireError) -> QuantHeader {
        QuantHeader(
            chain: try TransactionJSON.field(chain, as: Hash.self, "chain"), height: height,
            previous: try TransactionJSON.field(previous, as: Hash.self, "previous"),
            timestamp: Timestamp(milliseconds: timestamp),
            merkleRoot: try TransactionJSON.field(merkleRoot, as: Hash.self, "merkleRoot"),
            transactionCount: transactionCount, proposer: try TransactionJSON.field(proposer, as: PublicKey.self, "proposer"),
            difficultyBits: difficultyBits, nonce: nonce,
            seal: try seal.map { text throws(WireError) in try TransactionJSON.field(text, as: Signature.self, "seal") })
    }
}

/// How settled a committed Quant is: final under BFT, else as many confirmations as Quants
/// from it to the tip.
public struct Finality: Sendable, Equatable {
    public let final: Bool
    public let confirmations: UInt64

    public init(height: UInt64, tipHeight: UInt64, finalCommits: Bool) {
        final = finalCommits
        confirmations = tipHeight >= height ? tipHeight - height + 1 : 0
    }
}

/// What `QuantHeaderJSON` needs of a stored header (QBCWire does not depend on storage).
public protocol StoredHeaderView {
    var header: QuantHeader { get }
    var cumulativeWork: Int64 { get }
    var cumulativeTransactions: Int64 { get }
    var certificate: CommitCertificate? { get }
}

/// A Quant with its transactions.
public struct QuantJSON: Codable, Sendable {
    public let header: QuantHeaderJSON
    public let transactions: [TransactionJSON]

    public init(header: QuantHeaderJSON, transactions: [TransactionJSON]) {
        self.header = header
        self.transactions = transactions
    }
}

/// One page of `GET /chain`.
public struct ChainPageJSON: Codable, Sendable {
    public let chain: String
    public let height: UInt64
    public let from: UInt64
    /// The `from` of the next page, or nil at the tip.
    public let next: UInt64?
    public let quants: [QuantJSON]

    public init(chain: String, height: UInt64, from: UInt64, next: UInt64?, quants: [QuantJSON]) {
        self.chain = chain
        self.height = height
        self.from = from
        self.next = next
        self.quants = quants
    }
}

/// `GET /stats`.
public struct StatsJSON: Codable, Sendable {
    public let chain: String
    public let name: String
    public let engine: String
    public let difficultyBits: UInt8
    public let height: UInt64
    public let tipHash: String
    public let tipTimestamp: UInt64
    public let cumulativeWork: Int64
    public let transactions: Int64
    public let mempool: Int
    public let mempoolCapacity: Int
    public let peers: Int
    public let node: String
    public let version: String
    /// Proof of authority: authorities caught signing two Quants on one parent.
    public let equivocators: [String]?
    /// BFT: the height up to which every Quant is final (the tip's).
    public let finalHeight: UInt64?
    /// BFT: pieces of evidence of two certified Quants at one height (more than f authorities broke the rules).
    public let finalityConflicts: Int?
    /// For a forked chain: the parent and the last Quant the two share.
    public let fork: ForkJSON?
    /// True when only readers (with a proof of their key) may read the chain's Quants and
    /// transactions; absent from nodes before 0.3.
    public let readersOnly: Bool?

    public init(
        chain: String, name: String, engine: String, difficultyBits: UInt8, height: UInt64, tipHash: String,
        tipTimestamp: UInt64, cumulativeWork: Int64, transactions: Int64, mempool: Int, mempoolCapacity: Int,
        peers: Int, node: String, version: String, equivocators: [String]? = nil, fork: ForkJSON? = nil, finalHeight: UInt64? = nil,
        finalityConflicts: Int? = nil, readersOnly: Bool? = nil
    ) {
        self.fork = fork
        self.readersOnly = readersOnly
        self.finalHeight = finalHeight
        self.finalityConflicts = finalityConflicts
        self.chain = chain
        self.name = name
        self.engine = engine
        self.difficultyBits = difficultyBits
        self.height = height
        self.tipHash = tipHash
        self.tipTimestamp = tipTimestamp
        self.cumulativeWork = cumulativeWork
        self.transactions = transactions
        self.mempool = mempool
        self.mempoolCapacity = mempoolCapacity
        self.peers = peers
        self.node = node
        self.version = version
        self.equivocators = equivocators
    }
}

/// `GET /tx/{id}`.
public struct TransactionLookupJSON: Codable, Sendable {
    /// "committed" or "waiting".
    public let status: String
    public let transaction: TransactionJSON
    public let height: UInt64?
    public let position: Int?
    public let quant: String?
    /// Committed transactions: true when final (BFT), and the confirmations of its Quant.
    public let final: Bool?
    public let confirmations: UInt64?
    /// A locked payload: how it is locked and for whom (read from the envelope; never opened).
    public let lock: LockSummaryJSON?

    public init(
        status: String, transaction: TransactionJSON, height: UInt64?, position: Int?, quant: String?, finality: Finality? = nil,
        lock: LockSummaryJSON? = nil
    ) {
        self.lock = lock
        self.status = status
        self.transaction = transaction
        self.height = height
        self.position = position
        self.quant = quant
        final = finality?.final
        confirmations = finality?.confirmations
    }
}

/// `GET /mempool`.
public struct MempoolJSON: Codable, Sendable {
    public let count: Int
    public let transactions: [TransactionJSON]

    public init(count: Int, transactions: [TransactionJSON]) {
        self.count = count
        self.transactions = transactions
    }
}

/// The answer to `GET|POST /leap`.
public struct LeapJSON: Codable, Sendable {
    public let sealed: Bool
    public let message: String
    public let quant: QuantHeaderJSON?

    public init(sealed: Bool, message: String, quant: QuantHeaderJSON?) {
        self.sealed = sealed
        self.message = message
        self.quant = quant
    }
}

/// The body of a signed `POST /leap` from off the node's machine.
public struct LeapRequestJSON: Codable, Sendable {
    public let chain: String
    public let signer: String
    public let timestamp: UInt64
    public let signature: String

    public init(_ request: LeapRequest) {
        chain = request.chain.hex
        signer = request.signer.hex
        timestamp = request.timestamp.milliseconds
        signature = request.signature.hex
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["chain", "signer", "timestamp", "signature"], in: "Leap request")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        chain = try c.decode(String.self, forKey: .chain)
        signer = try c.decode(String.self, forKey: .signer)
        timestamp = try c.milliseconds(forKey: .timestamp)
        signature = try c.decode(String.self, forKey: .signature)
    }

    enum CodingKeys: String, CodingKey { case chain, signer, timestamp, signature }

    public func leapRequest() throws(WireError) -> LeapRequest {
        LeapRequest(
            chain: try TransactionJSON.field(chain, as: Hash.self, "chain"),
            signer: try TransactionJSON.field(signer, as: PublicKey.self, "signer"),
            timestamp: Timestamp(milliseconds: timestamp),
            signature: try TransactionJSON.field(signature, as: Signature.self, "signature"))
    }
}
