public import QBCCore
import QBCCrypto

/// The JSON form of a signed node registration (protocol.md, "Node registration").
public struct RegistrationJSON: Codable, Sendable, Equatable {
    public let node: String
    public let address: String
    public let chains: [String]
    public let timestamp: UInt64
    public let signature: String

    public init(_ r: Registration) {
        node = r.node.hex
        address = r.address
        chains = r.chains.map(\.hex)
        timestamp = r.timestamp.milliseconds
        signature = r.signature.hex
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["node", "address", "chains", "timestamp", "signature"], in: "registration")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        node = try c.decode(String.self, forKey: .node)
        address = try c.decode(String.self, forKey: .address)
        chains = try c.decode([String].self, forKey: .chains)
        timestamp = try c.milliseconds(forKey: .timestamp)
        signature = try c.decode(String.self, forKey: .signature)
    }

    enum CodingKeys: String, CodingKey { case node, address, chains, timestamp, signature }

    public func registration() throws(WireError) -> Registration {
        guard chains.count <= Registration.maxChains, address.utf8.count <= Registration.maxAddressBytes else {
            throw .tooLarge("a registration names at most \(Registration.maxChains) chains and a 255-byte address")
        }
        var ids = [ChainID]()
        for chain in chains { ids.append(try TransactionJSON.field(chain, as: Hash.self, "chains[]")) }
        return Registration(
            node: try TransactionJSON.field(node, as: PublicKey.self, "node"), address: address, chains: ids,
            timestamp: Timestamp(milliseconds: timestamp), signature: try TransactionJSON.field(signature, as: Signature.self, "signature"))
    }
}

/// `GET|POST /discover`: the answering node's registration first, then its peers'.
public struct DiscoverJSON: Codable, Sendable {
    public let peers: [RegistrationJSON]
    /// The answering node's stats for each chain it serves.
    public let chains: [StatsJSON]?
    public init(peers: [RegistrationJSON], chains: [StatsJSON]? = nil) {
        self.peers = peers
        self.chains = chains
    }

    /// Entries that do not parse are dropped; signatures are checked by the caller.
    public func registrations(limit: Int = 256) -> [Registration] {
        peers.prefix(limit).compactMap { try? $0.registration() }
    }
}

/// `GET /peer/chains/{id}/tip`: for fork choice, with the equivocation evidence the peer holds.
public struct PeerTipJSON: Codable, Sendable {
    public let height: UInt64
    public let hash: String
    public let cumulativeWork: Int64
    public let evidence: [EquivocationJSON]?

    public init(height: UInt64, hash: String, cumulativeWork: Int64, evidence: [EquivocationJSON]? = nil) {
        self.height = height
        self.hash = hash
        self.cumulativeWork = cumulativeWork
        self.evidence = evidence
    }
}

/// Two headers sealed by one authority on one parent, each as the hex of its stored form
/// (signing bytes, seal flag, seal: protocol.md, "Quant header").
public struct EquivocationJSON: Codable, Sendable {
    public let first: String
    public let second: String

    public init(_ evidence: Equivocation) {
        first = Hex.encode(evidence.first.encoded)
        second = Hex.encode(evidence.second.encoded)
    }

    /// The evidence, or nil when the headers do not decode or prove nothing.
    public func evidence() -> Equivocation? {
        guard first.utf8.count <= 512, second.utf8.count <= 512, let a = try? Hex.decode(first), let b = try? Hex.decode(second),
            let headerA = try? QuantHeader(decoding: a), let headerB = try? QuantHeader(decoding: b)
        else { return nil }
        return Equivocation(headerA, headerB)
    }
}

/// `GET /peer/chains/{id}/headers`: consecutive Quant headers, for finding a common ancestor.
public struct HeadersPageJSON: Codable, Sendable {
    public let headers: [QuantHeaderJSON]

    public init(headers: [QuantHeaderJSON]) { self.headers = headers }
}

extension QuantJSON {
    /// The form nodes send each other: cumulative figures are the sender's view and are not
    /// trusted, so they go as 0.
    public init(peerForm quant: Quant) {
        self.init(
            header: QuantHeaderJSON(header: quant.header, cumulativeWork: 0, cumulativeTransactions: 0, certificate: quant.certificate),
            transactions: quant.transactions.map(TransactionJSON.init))
    }

    /// Maps to the core Quant, bounding counts and sizes first; the hash is recomputed, never trusted.
    public func quant(maxPayloadBytes: Int) throws(WireError) -> Quant {
        guard transactions.count <= QuantLimits.absoluteMaxTransactions else {
            throw .tooLarge("a Quant holds at most \(QuantLimits.absoluteMaxTransactions) transactions")
        }
        let header = try header.quantHeader()
        var txs = [Transaction]()
        txs.reserveCapacity(transactions.count)
        var fields = TransactionJSON.RecentFields()
        for tx in transactions { txs.append(try tx.transaction(maxPayloadBytes: maxPayloadBytes, sharing: &fields)) }
        return Quant(header: header, transactions: txs, certificate: try self.header.commitCertificate())
    }
}

/// The answer to a pushed Quant.
public struct PeerQuantResultJSON: Codable, Sendable {
    /// "committed", "rejected", "not_on_tip" or "busy".
    public let status: String
    public let message: String
    public init(status: String, message: String) {
        self.status = status
        self.message = message
    }
}

/// `POST /peer/chains/{id}/consensus`: BFT messages, votes (each its bytes, hex) and proposals.
public struct ConsensusMessagesJSON: Codable, Sendable {
    public let votes: [String]?
    public let proposals: [ProposalJSON]?

    public init(_ messages: [BFTHeight.Message]) {
        var votes = [String]()
        var proposals = [ProposalJSON]()
        for message in messages {
            switch message {
            case .vote(let vote): votes.append(Hex.encode(vote.encoded))
            case .proposal(let proposal): proposals.append(ProposalJSON(proposal))
            }
        }
        self.votes = votes.isEmpty ? nil : votes
        self.proposals = proposals.isEmpty ? nil : proposals
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["votes", "proposals"], in: "consensus messages")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        votes = try container.decodeIfPresent([String].self, forKey: .votes)
        proposals = try container.decodeIfPresent([ProposalJSON].self, forKey: .proposals)
    }

    enum CodingKeys: String, CodingKey { case votes, proposals }

    /// Votes a push may hold: every authority's two votes in a few rounds.
    public static let maxVotes = 4 * BFTEngine.maxAuthorities
    public static let maxProposals = 4

    /// Proposals first, then votes; at most `maxVotes` votes of at most 214 bytes, `maxProposals` proposals.
    public func messages(maxPayloadBytes: Int) throws(WireError) -> [BFTHeight.Message] {
        let votes = votes ?? []
        let proposals = proposals ?? []
        guard votes.count <= Self.maxVotes, proposals.count <= Self.maxProposals else {
            throw .tooLarge("at most \(Self.maxVotes) votes and \(Self.maxProposals) proposals per push")
        }
        guard !votes.isEmpty || !proposals.isEmpty else { throw .malformed("a consensus push holds at least one vote or proposal") }
        var messages = [BFTHeight.Message]()
        for proposal in proposals { messages.append(.proposal(try proposal.proposal(maxPayloadBytes: maxPayloadBytes))) }
        for vote in votes {
            guard vote.utf8.count <= 2 * 214 else { throw .tooLarge("a vote is at most 214 bytes") }
            do { messages.append(.vote(try Vote(decoding: try Hex.decode(vote)))) } catch {
                throw .malformed("each vote must be the hex of a vote's bytes (documentation/protocol.md, \"BFT votes\")")
            }
        }
        return messages
    }
}

/// A BFT proposal: the round's proposer's signature over the round, valid round and Quant.
public struct ProposalJSON: Codable, Sendable {
    public let round: UInt32
    /// The round in which a quorum prevoted for this Quant; absent for a new Quant.
    public let validRound: UInt32?
    public let proposer: String
    public let signature: String
    public let quant: QuantJSON

    public init(_ proposal: Proposal) {
        round = proposal.round
        validRound = proposal.validRound
        proposer = proposal.proposer.hex
        signature = proposal.signature.hex
        quant = QuantJSON(
            header: QuantHeaderJSON(header: proposal.quant.header, cumulativeWork: 0, cumulativeTransactions: 0),
            transactions: proposal.quant.transactions.map(TransactionJSON.init))
    }

    public func proposal(maxPayloadBytes: Int) throws(WireError) -> Proposal {
        guard validRound != Proposal.noRound else { throw .malformed("validRound \(Proposal.noRound) is reserved for none") }
        let quant = try self.quant.quant(maxPayloadBytes: maxPayloadBytes)
        guard quant.certificate == nil else { throw .malformed("a proposed Quant has no certificate yet") }
        return Proposal(
            quant: quant, round: round, validRound: validRound,
            proposer: try TransactionJSON.field(proposer, as: PublicKey.self, "proposer"),
            signature: try TransactionJSON.field(signature, as: Signature.self, "signature"))
    }
}
