import QBCCore
import QBCCrypto

/// Builds valid chains in memory for storage and rule tests.
public struct ChainBuilder {
    public let admin = TestKeys.key(1)
    public let writer = TestKeys.key(2)
    public let node = TestKeys.key(3)
    /// Under proof of authority: keys 3, 4 and 5 hold the authority role.
    public let authorities = [TestKeys.key(3), TestKeys.key(4), TestKeys.key(5)]
    public let bang: Bang
    public var rules: ChainRules { bang.rules }
    public var clock = Timestamp(milliseconds: 1_800_000_000_000)

    /// A proof-of-work chain, or with `outOfTurnDelay`, a proof-of-authority one.
    public init(
        difficultyBits: UInt8 = 4, maxTransactions: Int = 100, maxQuantBytes: Int? = nil, outOfTurnDelay: UInt32? = nil,
        retarget: Retarget? = nil
    ) {
        var quantLimits = QuantLimits.standard
        quantLimits.maxTransactions = maxTransactions
        if let maxQuantBytes { quantLimits.maxBytes = maxQuantBytes }
        var members: [PublicKey: Role] = [TestKeys.key(1).publicKey: .admin, TestKeys.key(2).publicKey: .writer]
        for key in [3, 4, 5].map(TestKeys.key) { members[key.publicKey] = outOfTurnDelay == nil ? [.node] : [.node, .authority] }
        let rules = ChainRules(
            name: "test",
            consensus: outOfTurnDelay.map { .proofOfAuthority(outOfTurnDelayMilliseconds: $0) }
                ?? .proofOfWork(difficultyBits: difficultyBits, retarget: retarget),
            membership: Membership(members), quantLimits: quantLimits)
        bang = Bang(rules: rules, timestamp: clock, creator: TestKeys.key(1))
    }

    public mutating func transaction(_ text: String, by key: SigningKey? = nil, contentType: String = "text/plain") -> Transaction {
        clock = Timestamp(milliseconds: clock.milliseconds + 1)
        let signer = key ?? writer
        return Transaction(
            signing: .init(chain: bang.id, sender: signer.publicKey, nonce: .random(), timestamp: clock,
                           contentType: contentType, payload: Array(text.utf8)),
            with: signer)
    }

    /// A valid Quant on top of `parent` (nil: the Bang): mined under proof of work, sealed by
    /// `proposer` (default: the in-turn authority) under proof of authority.
    public func quant(
        _ transactions: [Transaction], parent: (height: UInt64, hash: Hash)?, proposer: SigningKey? = nil,
        timestamp: Timestamp? = nil, difficulty: UInt8? = nil
    ) -> Quant {
        let height = (parent?.height ?? 0) + 1
        var header = QuantHeader(
            chain: bang.id, height: height, previous: parent?.hash ?? bang.id, timestamp: timestamp ?? clock,
            merkleRoot: Merkle.root(transactions.map(\.id)), transactionCount: UInt32(transactions.count),
            proposer: node.publicKey, difficultyBits: difficulty ?? difficultyBits, nonce: 0)
        if let engine = rules.consensus.engine as? ProofOfAuthorityEngine {
            let inTurn = ProofOfAuthorityEngine.inTurn(at: height, membership: rules.membership)
            let signer = proposer ?? authorities.first { $0.publicKey == inTurn } ?? node
            header.proposer = signer.publicKey
            header.difficultyBits = signer.publicKey == inTurn ? ProofOfAuthorityEngine.inTurnWeight : ProofOfAuthorityEngine.outOfTurnWeight
            header = engine.seal(header, with: signer, worker: 0, of: 1, shouldStop: { false }) ?? header
        } else {
            header = ProofOfWork.mine(header) ?? header
        }
        return Quant(header: header, transactions: transactions)
    }

    public var difficultyBits: UInt8 { rules.consensus.engine.difficultyBits }
}

extension ChainBuilder {
    /// A membership transaction sent by the first approver (default: the admin alone).
    public mutating func membershipChange(
        _ action: MembershipChange.Action, _ member: PublicKey, roles: Role, approvers: [SigningKey]? = nil
    ) -> Transaction {
        let approvers = approvers ?? [admin]
        let change = MembershipChange(chain: bang.id, action: action, member: member, roles: roles, nonce: .random())
        let proposal = MembershipProposal(change: change, approvals: approvers.map { Approval(approving: change, with: $0) })
        clock = Timestamp(milliseconds: clock.milliseconds + 1)
        return Transaction(
            signing: .init(chain: bang.id, sender: approvers[0].publicKey, nonce: .random(), timestamp: clock,
                           contentType: MembershipChange.contentType, payload: proposal.encoded),
            with: approvers[0])
    }
}
