import QBCCrypto

/// Checks a Quant against its parent and the chain's rules: every rule, not only its length.
public enum QuantRules {
    /// What a Quant is checked against: the parent's height, hash and timestamp.
    public struct Parent: Sendable, Hashable {
        public let height: UInt64
        public let hash: Hash
        public let timestamp: Timestamp
        /// The parent header's difficulty byte (the Bang's difficulty for the Bang).
        public let difficultyBits: UInt8
        /// Proof-of-work retargeting: the timestamp of the Quant one window below the parent
        /// (the Bang's at height 0); nil when the next height does not retarget.
        public let windowStart: Timestamp?

        public init(height: UInt64, hash: Hash, timestamp: Timestamp, difficultyBits: UInt8 = 0, windowStart: Timestamp? = nil) {
            self.height = height
            self.hash = hash
            self.timestamp = timestamp
            self.difficultyBits = difficultyBits
            self.windowStart = windowStart
        }
    }

    /// Header checks: chain, link, height, timestamp, consensus proof. `membership` is the
    /// parent's (it names the authorities); the Bang's when nil.
    public static func checkHeader(
        _ header: QuantHeader, parent: Parent, chain: ChainID, rules: ChainRules, membership: Membership? = nil,
        now: Timestamp, banned: Equivocators = [:]
    ) throws(RuleError) {
        guard header.chain == chain else { throw RuleError(.wrongChain, "the Quant belongs to chain \(header.chain.hex)") }
        guard header.height == parent.height + 1 else {
            throw RuleError(.wrongHeight, "height \(header.height) does not follow \(parent.height)")
        }
        guard header.previous == parent.hash else {
            throw RuleError(.wrongPrevious, "previous hash \(header.previous.hex) is not the parent \(parent.hash.hex)")
        }
        guard header.timestamp >= parent.timestamp else {
            throw RuleError(.badTimestamp, "timestamp \(header.timestamp) is before the parent's \(parent.timestamp)")
        }
        let ahead = header.timestamp.milliseconds(since: now)
        guard ahead <= 0 || ahead.magnitude <= rules.quantLimits.maxFutureMilliseconds else {
            throw RuleError(.badTimestamp, "timestamp \(header.timestamp) is too far in the future")
        }
        try rules.consensus.engine.checkProof(header, parent: parent, membership: membership ?? rules.membership, banned: banned)
    }

    /// Body checks: count, size, Merkle root, and per transaction: chain, shape, payload rules,
    /// sender's role (writer; admin for membership changes, reader for read keys), no duplicates inside the Quant. Every member
    /// is judged by `membership`, the parent's; the Quant's membership changes are applied after
    /// it, in order, and returned. Signatures are checked separately (in parallel) by
    /// `checkSignatures`; replays against earlier Quants need the store and are the node's.
    /// `payloadsChecked`: the sealing node's own Quant, whose payloads it checked on admission
    /// against the same (immutable) rules; every received Quant has its payloads checked again.
    /// `merkleRootChecked`: the caller computed the header's root from this very list of
    /// transactions (a Leap builds its header from its batch; sync checks each page's roots
    /// before verifying its signatures). It is 20,000 hashes in a Quant of 10,000.
    @discardableResult
    public static func checkBody(
        _ quant: Quant, rules: ChainRules, membership: Membership, payloadsChecked: Bool = false, merkleRootChecked: Bool = false
    ) throws(RuleError) -> (membership: Membership, events: [MemberEvent])
    {
        let header = quant.header
        guard Int(header.transactionCount) == quant.transactions.count else {
            throw RuleError(.countMismatch, "header says \(header.transactionCount) transactions, body has \(quant.transactions.count)")
        }
        guard quant.transactions.count <= rules.quantLimits.maxTransactions else {
            throw RuleError(.quantTooLarge, "\(quant.transactions.count) transactions; the limit is \(rules.quantLimits.maxTransactions)")
        }
        var bytes = 0
        var seen = Set<HashKey>(minimumCapacity: quant.transactions.count)
        var roles = RoleCheck(membership)
        for tx in quant.transactions {
            bytes += tx.encodedSize
            guard tx.chain == header.chain else { throw RuleError(.wrongChain, "transaction \(tx.id.hex) names another chain") }
            let ahead = tx.timestamp.milliseconds(since: header.timestamp)
            guard ahead <= 0 || ahead.magnitude <= rules.transactionLimits.maxFutureMilliseconds else {
                throw RuleError(.badTimestamp, "transaction \(tx.id.hex) is dated after its Quant")
            }
            try TransactionRules.checkShape(tx, limits: rules.transactionLimits)
            if !payloadsChecked { try rules.payload.check(tx) }
            guard roles.holds(tx.sender, tx.senderRole) else {
                throw RuleError(.notAuthorized, "transaction \(tx.id.hex): sender \(tx.sender.hex) does not hold the \(tx.senderRole) role")
            }
            guard seen.insert(HashKey(tx.id)).inserted else { throw RuleError(.duplicateInQuant, "transaction \(tx.id.hex) appears twice") }
        }
        guard bytes <= rules.quantLimits.maxBytes else {
            throw RuleError(.quantTooLarge, "\(bytes) bytes; the limit is \(rules.quantLimits.maxBytes)")
        }
        guard merkleRootChecked || Merkle.root(quant.transactions.map(\.id)) == header.merkleRoot else {
            throw RuleError(.badMerkleRoot, "the Merkle root does not match the transactions")
        }
        return try Governance.apply(quant.transactions, to: membership, rules: rules, chain: header.chain)
    }
}
