import Logging
public import QBCCore
public import QBCCrypto
public import QBCStorage

/// What a Leap did.
public enum LeapOutcome: Sendable {
    /// A Quant was sealed and committed.
    case sealed(StoredHeader)
    /// The mempool had nothing ready to seal.
    case nothingToSeal
    /// Another Leap on this chain is still running.
    case busy
    /// This node may not seal at the next height yet (proof of authority: not its turn, or no authority).
    case notYourTurn(RuleError)
    /// Sealing stopped because a Quant from a peer arrived; the transactions wait for the next Leap.
    case superseded
}

extension ChainService {
    /// Seals ready transactions into a Quant and commits it through the commit gate. The seal
    /// (a proof-of-work search) runs off the actor and the request threads; a peer's Quant
    /// arriving meanwhile stops it, and the transactions wait for the next Leap.
    public nonisolated func leap(now: Timestamp) async throws(StorageError) -> LeapOutcome {
        guard !engine.commitsAreFinal else {
            return .notYourTurn(RuleError(
                .notYourTurn, "chain \(rules.name) commits by rounds of votes among its authorities (BFT); waiting transactions are proposed without a Leap"))
        }
        guard leapSlot.take() else { return .busy }
        defer { leapSlot.release() }
        let job = SealingJob()
        await gate.enter("Leap", onInterrupt: job.stop)
        defer { gate.leave() }
        let (parent, taken) = await takeForSealing()
        // A parent this node sealed on before takes only the very Quant it sealed then: any other
        // would be evidence against it (consensus.md, "Sealing once per parent").
        let earlier: SealedQuant?
        do { earlier = engine.sealsOncePerParent ? try await store.sealed(on: parent?.hash ?? id, chain: id) : nil } catch {
            await release(taken.map(\.id))
            throw error
        }
        if let earlier {
            await release(taken.map(\.id))
            return try await proposeAgain(earlier, on: parent, now: now)
        }
        do {
            let started = ContinuousClock.now
            let outcome = try await seal(taken, on: parent, job: job, now: now)
            if case .sealed = outcome {
                metrics.sealed(in: ContinuousClock.now - started)
                return outcome
            }
            await release(taken.map(\.id))
            return outcome
        } catch {
            await release(taken.map(\.id))
            throw error
        }
    }

    /// Builds, seals, checks and commits a Quant of `taken` on `parent`, holding the gate.
    private nonisolated func seal(_ taken: [Transaction], on parent: StoredHeader?, job: SealingJob, now: Timestamp)
        async throws(StorageError) -> LeapOutcome
    {
        let membership = self.membership
        let batch = try await sealable(taken, membership: membership)
        guard !batch.isEmpty else { return .nothingToSeal }
        let height = (parent?.header.height ?? 0) + 1
        let header = unsealedHeader(of: batch, on: parent, now: now)
        let parentSummary = try await summary(of: parent)
        guard let prepared = engine.prepare(header, parent: parentSummary, now: now, membership: membership) else {
            return .notYourTurn(RuleError(
                .notYourTurn, membership.holds(proposer, .authority)
                    ? "height \(height) is another authority's turn; this node may seal after the out-of-turn delay"
                    : "this node's key may not seal on chain \(rules.name)"))
        }
        guard let sealed = await job.seal(prepared, engine: engine, key: sealer, threads: environment.sealingThreads) else {
            return .superseded
        }
        // The header's root was computed from `batch` just above: checking it again would hash
        // the whole tree twice. A re-proposal (`proposeAgain`) rebuilds its list and checks it.
        return .sealed(try await commitOwn(
            Quant(header: sealed, transactions: batch), on: parent, summary: parentSummary, now: now,
            merkleRootChecked: sealed.merkleRoot == header.merkleRoot))
    }

    /// What of `taken` may go into a Quant. What may no longer wait is dropped here rather than
    /// refused in the Quant's checks: one such transaction must never stop every later Leap.
    private nonisolated func sealable(_ taken: [Transaction], membership: Membership) async throws(StorageError) -> [Transaction] {
        var roles = RoleCheck(membership)
        var lostRole = Set<TransactionID>()
        for tx in taken where !Self.mayWait(tx, &roles) { lostRole.insert(tx.id) }
        // The common case: everything may still be sealed, and no list is rebuilt.
        if lostRole.isEmpty, !taken.contains(where: { $0.contentType == MembershipChange.contentType }) { return taken }
        if !lostRole.isEmpty {
            await dropFromMempool(lostRole)
            await forget(Array(lostRole), reason: .removedRole)
        }
        let refused = try await staleChanges(in: taken.filter { !lostRole.contains($0.id) }, membership: membership)
        if !refused.isEmpty {
            await dropFromMempool(refused)
            await forget(Array(refused), reason: .staleChange)
        }
        return taken.filter { !lostRole.contains($0.id) && !refused.contains($0.id) }
    }

    private nonisolated func unsealedHeader(of batch: [Transaction], on parent: StoredHeader?, now: Timestamp) -> QuantHeader {
        QuantHeader(
            chain: id, height: (parent?.header.height ?? 0) + 1, previous: parent?.hash ?? id,
            timestamp: max(now, parent?.header.timestamp ?? bang.timestamp), merkleRoot: Merkle.root(batch.map(\.id)),
            transactionCount: UInt32(batch.count), proposer: proposer, difficultyBits: 0, nonce: 0)
    }

    /// BFT: a Quant of waiting transactions on the tip, sealed by this node, for a round it
    /// proposes in; nil when nothing may be sealed. The transactions stay waiting until a Quant
    /// that holds them commits (this one or another).
    public nonisolated func proposal(now: Timestamp) async throws(StorageError) -> Quant? {
        let (parent, taken) = await takeForSealing()
        let batch: [Transaction]
        do { batch = try await sealable(taken, membership: membership) } catch {
            await release(taken.map(\.id))
            throw error
        }
        await release(taken.map(\.id))
        guard !batch.isEmpty else { return nil }
        let parentSummary = try await summary(of: parent)
        guard let prepared = engine.prepare(unsealedHeader(of: batch, on: parent, now: now), parent: parentSummary, now: now, membership: membership),
            let sealed = engine.seal(prepared, with: sealer, worker: 0, of: 1, shouldStop: { false })
        else { return nil }
        return Quant(header: sealed, transactions: batch)
    }

    /// Proposes again the Quant this node sealed on `parent` before (a rollback made that parent
    /// the tip once more), if all its transactions still wait here and it still passes every check.
    private nonisolated func proposeAgain(_ earlier: SealedQuant, on parent: StoredHeader?, now: Timestamp)
        async throws(StorageError) -> LeapOutcome
    {
        let refusal = RuleError(
            .notYourTurn,
            "this node sealed on the Quant at height \(earlier.header.height - 1) before and cannot propose that Quant again; another authority extends it")
        guard let transactions = await takeExactly(earlier.transactions) else { return .notYourTurn(refusal) }
        do {
            let quant = Quant(header: earlier.header, transactions: transactions)
            return .sealed(try await commitOwn(quant, on: parent, summary: try await summary(of: parent), now: now))
        } catch {
            await release(earlier.transactions)
            logger.warning("could not propose again the Quant sealed here before", metadata: ["chain": "\(rules.name)", "error": "\(error)"])
            return .notYourTurn(refusal)
        }
    }

    /// Checks and commits a Quant this node sealed, and tells the network.
    private nonisolated func commitOwn(
        _ quant: Quant, on parent: StoredHeader?, summary parentSummary: QuantRules.Parent, now: Timestamp, merkleRootChecked: Bool = false
    ) async throws(StorageError) -> StoredHeader
    {
        let membership = self.membership
        // Our own Quant passes the same checks a peer's would (signatures were checked at admission,
        // and a fresh seal's Merkle root is the one just computed from its batch, D73).
        let update: (membership: Membership, events: [MemberEvent])
        do throws(RuleError) {
            try QuantRules.checkHeader(
                quant.header, parent: parentSummary, chain: id, rules: rules, membership: membership, now: now, banned: await equivocators)
            update = try QuantRules.checkBody(
                quant, rules: rules, membership: membership, payloadsChecked: true, merkleRootChecked: merkleRootChecked)
        } catch {
            throw StorageError(.conflict, "refusing to commit an invalid Quant: \(error)")
        }
        let record = QuantRecord(quant: quant, stored: stored(quant, parent: parent), events: update.events, sealedHere: true)
        try await store.commit(record)
        let dropped = await install(tip: record.stored, membership: update.membership, committed: quant.transactions.map(\.id), leap: true)
        await forget(dropped, reason: .removedRole)
        environment.observer?.committed(quant, on: id)
        sealedSink.yield(quant)
        return record.stored
    }

    /// Waiting transactions to push to every peer again, when transactions wait and the tip has
    /// not moved for `stallMilliseconds` (nor have they been pushed again since). A partition can
    /// leave the only copies with a node that may not seal them (not its turn, or a height it
    /// sealed on an abandoned branch) while the nodes that may have nothing to seal: without
    /// this, the chain would wait forever. Peers refuse what they hold already before checking it.
    func stalled(now: Timestamp, stallMilliseconds: Int64 = 10_000, limit: Int = 1000) -> [Transaction] {
        guard mempool.count > 0, now.milliseconds(since: tipMovedAt) >= stallMilliseconds,
            now.milliseconds(since: rebroadcastAt) >= stallMilliseconds
        else { return [] }
        rebroadcastAt = now
        return mempool.listed(limit: limit)
    }

    private func takeForSealing() -> (StoredHeader?, [Transaction]) {
        (tip, mempool.takeForSealing(limits: rules.quantLimits))
    }

    private func release(_ ids: [TransactionID]) { mempool.release(ids) }

    private func takeExactly(_ ids: [TransactionID]) -> [Transaction]? { mempool.take(exactly: ids) }

    private func dropFromMempool(_ ids: Set<TransactionID>) { mempool.remove(ids) }

    /// Membership changes in a batch that no longer hold (applied already, or overtaken by an
    /// earlier change), checked in order as the Quant would apply them.
    private nonisolated func staleChanges(in batch: [Transaction], membership: Membership) async throws(StorageError)
        -> Set<TransactionID>
    {
        var current = membership
        var refused = Set<TransactionID>()
        var seen = Set<Hash>()
        for tx in batch where tx.contentType == MembershipChange.contentType {
            guard let change = try? Governance.check(tx, membership: membership, current: current, rules: rules, chain: id),
                seen.insert(change.id).inserted,
                try await store.appliedChanges([change.id], chain: id, atOrBelow: .max).isEmpty
            else {
                refused.insert(tx.id)
                continue
            }
            current.set(change.member, change.roles(after: current.roles(of: change.member)))
        }
        return refused
    }
}

/// A point-in-time view of a chain for `/stats`.
public struct ChainStats: Sendable {
    public let chain: ChainID
    public let name: String
    public let engine: String
    public let difficultyBits: UInt8
    public let height: UInt64
    public let tipHash: Hash
    public let tipTimestamp: Timestamp
    public let cumulativeWork: Int64
    public let transactionCount: Int64
    public let mempoolSize: Int
    /// Encoded bytes of the waiting transactions.
    public let mempoolBytes: Int
    public let mempoolCapacity: Int
    public let leaps: Int
    /// Authorities caught sealing two Quants on one parent, or (BFT) signing conflicting certificates.
    public let equivocators: [PublicKey]
    /// BFT: pieces of evidence of two certified Quants at one height.
    public let finalityConflicts: Int
}

extension ChainService {
    // MARK: Reads

    public func stats() -> ChainStats {
        ChainStats(
            chain: id, name: rules.name, engine: rules.consensus.engineName, difficultyBits: engine.difficultyBits,
            height: tip?.header.height ?? 0, tipHash: tip?.hash ?? id, tipTimestamp: tip?.header.timestamp ?? bang.timestamp,
            cumulativeWork: tip?.cumulativeWork ?? 0, transactionCount: tip?.cumulativeTransactions ?? 0,
            mempoolSize: mempool.count, mempoolBytes: mempool.bytes, mempoolCapacity: mempool.capacity, leaps: leapsCompleted,
            equivocators: equivocators.keys.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }, finalityConflicts: finalityConflicts)
    }

    /// The tip as peers see it, for fork choice.
    public func peerTip() -> PeerTip {
        PeerTip(height: tip?.header.height ?? 0, hash: tip?.hash ?? id, cumulativeWork: tip?.cumulativeWork ?? 0)
    }

    public func waiting(limit: Int) -> [Transaction] { mempool.listed(limit: limit) }

    /// Waiting transactions a Leap could seal now (persisted, not in a running Leap).
    public func sealable() -> Int { mempool.sealableCount }

    public func waitingTransaction(_ id: TransactionID) -> Transaction? { mempool.transaction(id) }

    /// What holds the chain's commit gate now, and how many wait for it.
    public nonisolated var commitGate: (holder: String?, waiting: Int) { gate.occupancy }

    /// The store, for paged reads that need no actor state.
    public nonisolated var reader: any BlockStore { store }

    /// True when `key` may trigger a Leap by a signed request.
    public nonisolated func mayTriggerLeap(_ key: PublicKey) -> Bool {
        !membership.roles(of: key).intersection([.admin, .authority]).isEmpty
    }
}

extension ChainService {
    /// The tip and the membership after it, read together (BFT: who votes at the next height).
    public func consensusView() -> (tip: StoredHeader?, membership: Membership) { (tip, membership) }
}
