import Dispatch
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
    /// Proof of authority: this node may not seal at the next height yet (or is no authority).
    case notYourTurn(RuleError)
    /// Mining stopped because a Quant from a peer arrived; the transactions wait for the next Leap.
    case superseded
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
    public let mempoolCapacity: Int
    public let leaps: Int
    /// Proof of authority: authorities caught signing two Quants at one height.
    public let equivocators: [PublicKey]
}

extension ChainService {
    /// Seals ready transactions into a Quant, mines it off the actor and the request threads,
    /// commits it in one database transaction, then drops its transactions from the mempool.
    public nonisolated func leap(now: Timestamp) async throws(StorageError) -> LeapOutcome {
        guard let (parent, taken) = await beginSealing() else { return .busy }
        let membership = self.membership
        let refused = refusedChanges(in: taken, membership: membership)
        if !refused.isEmpty { await drop(refused) }
        let batch = taken.filter { !refused.contains($0.id) }
        guard !batch.isEmpty else {
            await endSealing(committed: nil, transactions: [])
            return .nothingToSeal
        }
        let height = (parent?.header.height ?? 0) + 1
        let parentTimestamp = parent?.header.timestamp ?? bang.timestamp
        var header = QuantHeader(
            chain: id, height: height, previous: parent?.hash ?? id,
            timestamp: max(now, parentTimestamp), merkleRoot: Merkle.root(batch.map(\.id)),
            transactionCount: UInt32(batch.count), proposer: proposer, difficultyBits: difficultyBits, nonce: 0)
        let parentSummary = summary(of: parent)
        guard let prepared = rules.consensus.engine.prepare(
            header, parent: parentSummary, now: now, membership: membership)
        else {
            await endSealing(committed: nil, transactions: batch.map(\.id))
            return .notYourTurn(RuleError(
                .notYourTurn, membership.holds(proposer, .authority)
                    ? "height \(height) is another authority's turn; this node may seal after the out-of-turn delay"
                    : "this node's key is not an authority of chain \(rules.name)"))
        }
        header = prepared
        let mined: QuantHeader
        switch rules.consensus {
        case .proofOfWork:
            let job = await startMining()
            guard let found = await job.mine(header, workers: verifierTasks) else {
                await endSealing(committed: nil, transactions: batch.map(\.id))
                return .superseded
            }
            mined = found
        case .proofOfAuthority:
            mined = ProofOfAuthority.seal(header, with: sealer)
        }
        let quant = Quant(header: mined, transactions: batch)
        do throws(StorageError) {
            // Our own Quant passes the same checks a peer's would (signatures were checked at admission).
            let update: (membership: Membership, events: [MemberEvent])
            do throws(RuleError) {
                try QuantRules.checkHeader(
                    mined, parent: parentSummary, chain: id, rules: rules, membership: membership, now: now, banned: await equivocators)
                update = try QuantRules.checkBody(quant, rules: rules, membership: membership, payloadsChecked: true)
            } catch {
                throw StorageError(.conflict, "refusing to commit an invalid Quant: \(error)")
            }
            let stored = try store.commit(quant, parent: parent, events: update.events)
            await endSealing(committed: stored, transactions: batch.map(\.id), membership: update.membership)
            sealedSink.yield(quant)
            return .sealed(stored)
        } catch {
            await endSealing(committed: nil, transactions: batch.map(\.id))
            throw error
        }
    }

    private nonisolated var difficultyBits: UInt8 {
        switch rules.consensus {
        case .proofOfWork(let bits, _): bits
        case .proofOfAuthority: 0
        }
    }

    private func startMining() -> MiningJob {
        let job = MiningJob()
        mining = job
        return job
    }

    /// Stops the running proof-of-work search, if any, so a peer's Quant can be committed.
    func stopMining() {
        mining?.stop()
    }

    private func beginSealing() -> (StoredHeader?, [Transaction])? {
        guard !sealing else { return nil }
        sealing = true
        return (tip, mempool.takeForSealing(limits: rules.quantLimits))
    }

    /// Membership changes in a batch that no longer hold (applied already, or overtaken by an
    /// earlier change), checked in order as the Quant would apply them.
    private nonisolated func refusedChanges(in batch: [Transaction], membership: Membership) -> Set<TransactionID> {
        var current = membership
        var refused = Set<TransactionID>()
        var seen = Set<Hash>()
        for tx in batch where tx.contentType == MembershipChange.contentType {
            guard let change = try? Governance.check(tx, membership: membership, current: current, rules: rules, chain: id),
                seen.insert(change.id).inserted,
                (try? store.appliedChanges([change.id], chain: id, atOrBelow: .max))?.isEmpty == true
            else {
                refused.insert(tx.id)
                continue
            }
            current.set(change.member, change.roles(after: current.roles(of: change.member)))
        }
        return refused
    }

    private func drop(_ ids: Set<TransactionID>) {
        mempool.remove(ids)
        try? store.removeFromMempool(Array(ids))
    }

    private func endSealing(committed: StoredHeader?, transactions: [TransactionID], membership: Membership? = nil) {
        mining = nil
        if let committed {
            tip = committed
            mempool.remove(transactions)
            if let membership { adopt(membership) }
            leapsCompleted += 1
        } else {
            mempool.release(transactions)
        }
        sealing = false
    }

    // MARK: Reads

    public func stats() -> ChainStats {
        ChainStats(
            chain: id, name: rules.name, engine: rules.consensus.engineName, difficultyBits: difficultyBits,
            height: tip?.header.height ?? 0, tipHash: tip?.hash ?? id, tipTimestamp: tip?.header.timestamp ?? bang.timestamp,
            cumulativeWork: tip?.cumulativeWork ?? 0, transactionCount: tip?.cumulativeTransactions ?? 0,
            mempoolSize: mempool.count, mempoolCapacity: mempool.capacity, leaps: leapsCompleted,
            equivocators: equivocators.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) })
    }

    public func waiting(limit: Int) -> [Transaction] { mempool.listed(limit: limit) }

    /// Waiting transactions a Leap could seal now (persisted, not in a running Leap).
    public func sealable() -> Int { mempool.sealableCount }

    public func waitingTransaction(_ id: TransactionID) -> Transaction? { mempool.transaction(id) }

    /// The store, for paged reads that need no actor state.
    public nonisolated var reader: any BlockStore { store }

    /// True when `key` may trigger a Leap by a signed request.
    public nonisolated func mayTriggerLeap(_ key: PublicKey) -> Bool {
        !membership.roles(of: key).intersection([.admin, .authority]).isEmpty
    }
}
