public import QBCCore
import QBCCrypto
public import QBCStorage

/// What happened to a Quant received from elsewhere.
public enum ReceiveOutcome: Sendable {
    /// Every rule held; the Quant is committed and is the new tip.
    case committed(StoredHeader)
    /// A rule is broken; nothing changed.
    case rejected(RuleError)
    /// It does not extend this node's tip (a fork or a gap: the sender's chain must be synced).
    case notOnTip(tipHeight: UInt64)
    /// A Leap or another commit is running; retry.
    case busy
}

extension ChainService {
    /// Checks a Quant received from a peer against every rule, as if this node had never seen any
    /// of it: header, proof, Merkle root, limits, writer roles, every signature (on all cores),
    /// and replays against the committed chain. Commits it when all hold. Its transactions leave
    /// the mempool, in whatever state they were.
    public nonisolated func receive(_ quant: Quant, now: Timestamp) async throws(StorageError) -> ReceiveOutcome {
        guard let parent = await commitLock() else { return .busy }
        let parentHeight = parent?.header.height ?? 0
        guard quant.header.height == parentHeight + 1, quant.header.previous == (parent?.hash ?? id) else {
            let equivocation = await detectEquivocation(quant.header)
            await endCommit(committed: nil, transactions: [])
            if let equivocation { return .rejected(equivocation) }
            return .notOnTip(tipHeight: parentHeight)
        }
        let banned = await equivocators
        let membership = self.membership
        let update: (membership: Membership, events: [MemberEvent])
        do throws(RuleError) {
            let summary = summary(of: parent)
            try QuantRules.checkHeader(
                quant.header, parent: summary, chain: id, rules: rules, membership: membership, now: now, banned: banned)
            update = try QuantRules.checkBody(quant, rules: rules, membership: membership)
            try await checkSignatures(quant.transactions)
        } catch {
            await endCommit(committed: nil, transactions: [])
            return .rejected(error)
        }
        do {
            if let replay = try store.committed(quant.transactions.map(\.id)).first {
                await endCommit(committed: nil, transactions: [])
                return .rejected(RuleError(.duplicate, "transaction \(replay.hex) is already committed on this chain"))
            }
            if let applied = try store.appliedChanges(update.events.map(\.change), chain: id, atOrBelow: .max).first {
                await endCommit(committed: nil, transactions: [])
                return .rejected(RuleError(.duplicate, "membership change \(applied.hex) is already applied on this chain"))
            }
            let stored = try store.commit(quant, parent: parent, events: update.events)
            await endCommit(committed: stored, transactions: quant.transactions.map(\.id), membership: update.membership)
            return .committed(stored)
        } catch {
            await endCommit(committed: nil, transactions: [])
            throw error
        }
    }

    /// What the Quant above a parent is checked against. `timestampAt` finds the timestamp of an
    /// older Quant (for retargeting): in a branch being checked first, then in the store.
    nonisolated func summary(
        height: UInt64, hash: Hash, timestamp: Timestamp, difficultyBits: UInt8?, timestampAt: (UInt64) -> Timestamp?
    ) -> QuantRules.Parent {
        var windowStart: Timestamp?
        if case .proofOfWork(let initial, let retarget?) = rules.consensus,
            ProofOfWorkEngine(difficultyBits: initial, retarget: retarget).retargets(above: height)
        {
            let start = height - UInt64(retarget.window)
            windowStart = start == 0 ? bang.timestamp : timestampAt(start)
        }
        let initialBits: UInt8 = if case .proofOfWork(let bits, _) = rules.consensus { bits } else { 0 }
        return QuantRules.Parent(
            height: height, hash: hash, timestamp: timestamp, difficultyBits: difficultyBits ?? initialBits, windowStart: windowStart)
    }

    /// The summary of a stored parent (nil: the Bang), older timestamps from the store.
    nonisolated func summary(of parent: StoredHeader?) -> QuantRules.Parent {
        summary(
            height: parent?.header.height ?? 0, hash: parent?.hash ?? id, timestamp: parent?.header.timestamp ?? bang.timestamp,
            difficultyBits: parent?.header.difficultyBits,
            timestampAt: { (try? store.header(chain: id, height: $0))?.header.timestamp })
    }

    /// Verifies every signature on all cores, except those of transactions this node already
    /// verified at admission: same id (which covers every signed field) and same signature bytes.
    nonisolated func checkSignatures(_ transactions: [Transaction]) async throws(RuleError) {
        let known = await verifiedInMempool(transactions)
        let unknown = zip(transactions, known).filter { !$0.1 }.map(\.0)
        let valid = await ParallelVerifier.verify(unknown, tasks: verifierTasks)
        if let bad = zip(unknown, valid).first(where: { !$0.1 })?.0 { try TransactionRules.checkSignature(bad) }
    }

    private func verifiedInMempool(_ transactions: [Transaction]) -> [Bool] {
        transactions.map { mempool.transaction($0.id)?.signature == $0.signature }
    }

    /// Under proof of authority: a validly sealed header at a height where this node stores a
    /// different Quant by the same proposer proves that proposer signed two Quants at one height.
    private func detectEquivocation(_ header: QuantHeader) -> RuleError? {
        guard case .proofOfAuthority = rules.consensus, let seal = header.seal,
            header.proposer.verify(seal, over: header.signingBytes), membership.holds(header.proposer, .authority),
            let stored = try? store.header(chain: id, height: header.height),
            stored.header.proposer == header.proposer, stored.hash != header.hash
        else { return nil }
        equivocators.insert(header.proposer)
        // Kept on disk so a restart does not forget it (until governance removes the authority).
        try? store.recordEquivocation(chain: id, proposer: header.proposer, height: header.height, hashes: (stored.hash, header.hash))
        return RuleError(
            .equivocation, "authority \(header.proposer.hex) signed two different Quants at height \(header.height); its Quants are refused from now on")
    }

    /// Takes the commit lock for a peer's Quant: a running proof-of-work search is stopped at once
    /// and the lock awaited briefly (it is released within milliseconds of the stop).
    nonisolated func commitLock() async -> StoredHeader?? {
        if let tip = await beginCommit() { return tip }
        await stopMining()
        for _ in 0..<400 {
            try? await Task.sleep(for: .milliseconds(5))
            if let tip = await beginCommit() { return tip }
        }
        return nil
    }

    /// Takes the chain's commit lock (shared with Leaps) and returns the tip.
    func beginCommit() -> StoredHeader?? {
        guard !sealing else { return nil }
        sealing = true
        return .some(tip)
    }

    func endCommit(committed: StoredHeader?, transactions: [TransactionID], membership: Membership? = nil) {
        if let committed {
            tip = committed
            mempool.remove(transactions)
            if let membership { adopt(membership) }
        }
        sealing = false
    }
}
