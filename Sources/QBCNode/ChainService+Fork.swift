import Logging
public import QBCCore
import QBCCrypto
public import QBCStorage

/// What happened to an offered fork.
public enum ForkOutcome: Sendable {
    /// The branch was valid and preferred: it replaced this node's Quants above the common ancestor.
    case switched(StoredHeader, orphaned: Int)
    /// A rule is broken somewhere in the branch; nothing changed.
    case rejected(RuleError)
    /// The branch is valid but fork choice keeps this node's chain; nothing changed.
    case notPreferred
}

extension ChainService {
    /// Switches to `branch` (consecutive Quants whose first one's parent is stored here) when fork
    /// choice prefers it: more cumulative work, or equal work and a lower tip hash, whatever the
    /// heights. The whole branch is checked first, every rule and signature, replays against the
    /// history below the fork included; then the store swaps it in atomically. Transactions only
    /// in the abandoned Quants go back to the mempool and are relayed again.
    public nonisolated func switchTo(_ branch: [Quant], now: Timestamp) async throws(StorageError) -> ForkOutcome {
        guard let first = branch.first, first.header.height >= 1 else { return .notPreferred }
        await gate.enter("fork switch", interrupting: true)
        defer { gate.leave() }
        let ancestorHeight = first.header.height - 1
        if engine.commitsAreFinal, let tip = await tip, tip.header.height > ancestorHeight {
            if let conflict = try await finalityConflict(with: first) { return .rejected(try await record(conflict)) }
            return .rejected(RuleError(
                .conflictsWithFinal, "the branch leaves this chain at height \(ancestorHeight), below its final Quant at \(tip.header.height)"))
        }
        let ancestor = ancestorHeight == 0 ? nil : try await store.header(chain: id, height: ancestorHeight)
        guard ancestorHeight == 0 || ancestor != nil else {
            return .rejected(RuleError(.wrongHeight, "the branch starts above this node's chain"))
        }
        // Two Quants by one authority at a height, ours and the branch's, are evidence either way.
        for quant in branch {
            guard let evidence = try await equivocation(with: quant.header) else { continue }
            try await record(evidence, holdingGate: true)
        }
        let start = bang.rules.membership.applying(try await store.memberEvents(chain: id, atOrBelow: ancestorHeight))
        let records: [QuantRecord]
        switch try await check(branch, ancestor: ancestor, membership: start, now: now) {
        case .failure(let error): return .rejected(error)
        case .success(let checked): records = checked
        }
        guard let newTip = records.last?.stored else { return .notPreferred }
        let ours = await tip
        guard ForkChoice.prefers(
            candidateWork: newTip.cumulativeWork, candidateTip: newTip.hash,
            over: ours?.cumulativeWork ?? 0, currentTip: ours?.hash ?? id)
        else { return .notPreferred }
        let ids = branch.flatMap { $0.transactions.map(\.id) }
        if let replay = try await store.committed(ids, chain: id, atOrBelow: ancestorHeight).first {
            return .rejected(RuleError(.duplicate, "transaction \(replay.hex) is already committed below the fork"))
        }
        let changes = records.flatMap { $0.events.map(\.change) }
        if let applied = try await store.appliedChanges(changes, chain: id, atOrBelow: ancestorHeight).first {
            return .rejected(RuleError(.duplicate, "membership change \(applied.hex) is already applied below the fork"))
        }
        let abandoned = try await store.headers(chain: id, from: ancestorHeight + 1, limit: Self.rememberedHeaders)
        let orphaned = try await store.replace(above: ancestor, chain: id, with: records, limits: rules.transactionLimits)
        await remember(abandoned: abandoned)
        let membership = Self.membership(after: records, from: start)
        let dropped = await install(tip: newTip, membership: membership, committed: ids, returned: orphaned)
        await forget(dropped, reason: .removedRole)
        environment.observer?.switched(chain: id, ancestor: ancestorHeight, to: branch, orphaned: orphaned.map(\.id))
        if !orphaned.isEmpty { admissionsSink.yield(orphaned) }
        metrics.switchedFork()
        return .switched(newTip, orphaned: orphaned.count)
    }

    /// Every Quant of the branch against every rule, as records ready to store; or the first
    /// broken rule. `membership` is the membership at the common ancestor.
    private nonisolated func check(
        _ branch: [Quant], ancestor: StoredHeader?, membership start: Membership, now: Timestamp
    ) async throws(StorageError) -> Result<[QuantRecord], RuleError> {
        var timestamps = [UInt64: Timestamp]()
        for quant in branch { timestamps[quant.header.height] = quant.header.timestamp }
        let lookup: (UInt64) async throws(StorageError) -> Timestamp? = { height throws(StorageError) in
            if let known = timestamps[height] { return known }
            return try await self.store.header(chain: self.id, height: height)?.header.timestamp
        }
        var parent = try await summary(
            height: ancestor?.header.height ?? 0, hash: ancestor?.hash ?? id,
            timestamp: ancestor?.header.timestamp ?? bang.timestamp, difficultyBits: ancestor?.header.difficultyBits ?? 0,
            timestampAt: lookup)
        var previous = ancestor
        var seen = Set<TransactionID>()
        var changes = Set<Hash>()
        var membership = start
        var records = [QuantRecord]()
        let banned = await equivocators
        for quant in branch {
            let update: (membership: Membership, events: [MemberEvent])
            do throws(RuleError) {
                try QuantRules.checkHeader(
                    quant.header, parent: parent, chain: id, rules: rules, membership: membership, now: now, banned: banned)
                try engine.checkCertificate(quant.certificate, of: quant.header, hash: quant.hash, membership: membership)
                update = try QuantRules.checkBody(quant, rules: rules, membership: membership)
                for tx in quant.transactions where !seen.insert(tx.id).inserted {
                    throw RuleError(.duplicate, "transaction \(tx.id.hex) appears twice in the branch")
                }
                for event in update.events where !changes.insert(event.change).inserted {
                    throw RuleError(.duplicate, "membership change \(event.change.hex) appears twice in the branch")
                }
            } catch {
                return .failure(error)
            }
            membership = update.membership
            let record = QuantRecord(quant: quant, stored: stored(quant, parent: previous), events: update.events)
            records.append(record)
            previous = record.stored
            parent = try await summary(
                height: quant.header.height, hash: quant.hash, timestamp: quant.header.timestamp,
                difficultyBits: quant.header.difficultyBits, timestampAt: lookup)
        }
        do throws(RuleError) { try await checkSignatures(branch.flatMap(\.transactions)) } catch { return .failure(error) }
        return .success(records)
    }

    /// The membership after a branch's changes, from the membership at its ancestor.
    static func membership(after records: [QuantRecord], from start: Membership) -> Membership {
        start.applying(records.flatMap(\.events))
    }

    // MARK: Evidence

    /// Records evidence that an authority sealed two Quants on one parent of this chain, if it
    /// is valid under this chain's engine and new. The authority's Quants above that height are
    /// refused from then on; if this node's chain holds any, it is rolled back to just below the
    /// first (its transactions wait again), so that fork choice can find the valid chain every
    /// node agrees on. Returns true when the evidence was new.
    @discardableResult
    public nonisolated func record(_ evidence: Equivocation) async throws(StorageError) -> Bool {
        // Known evidence, and evidence this chain's engine does not take, costs no gate: peers
        // pass evidence on with every tip, and each entry must not stop a seal.
        guard evidence.chain == id, await !equivocators.knows(evidence), engine.equivocation(evidence.first, evidence.second) != nil
        else { return false }
        await gate.enter("evidence", interrupting: true)
        defer { gate.leave() }
        return try await record(evidence, holdingGate: true)
    }

    /// `record(_:)` for a caller that holds the gate already.
    @discardableResult
    nonisolated func record(_ evidence: Equivocation, holdingGate: Bool) async throws(StorageError) -> Bool {
        guard evidence.chain == id, engine.equivocation(evidence.first, evidence.second) != nil,
            await noteEquivocation(evidence)
        else { return false }
        try await store.record(evidence)
        logger.warning("authority equivocated", metadata: [
            "chain": "\(rules.name)", "authority": "\(evidence.proposer.hex)", "height": "\(evidence.height)"])
        environment.observer?.detected(evidence)
        try await rollBack(below: evidence)
        return true
    }

    private func noteEquivocation(_ evidence: Equivocation) -> Bool { equivocators.record(evidence) }

    /// Removes this node's Quants from the first one `evidence` now refuses, if any.
    private nonisolated func rollBack(below evidence: Equivocation) async throws(StorageError) {
        guard let tip = await tip, tip.header.height > evidence.height else { return }
        var from = evidence.height + 1
        var offending: UInt64?
        let banned = await equivocators
        while offending == nil, from <= tip.header.height {
            let page = try await store.headers(chain: id, from: from, limit: 500)
            guard let last = page.last else { break }
            offending = page.first { banned.refuses($0.header) }?.header.height
            from = last.header.height + 1
        }
        guard let height = offending else { return }
        let ancestor = height == 1 ? nil : try await store.header(chain: id, height: height - 1)
        let abandoned = try await store.headers(chain: id, from: height, limit: Self.rememberedHeaders)
        let orphaned = try await store.replace(above: ancestor, chain: id, with: [], limits: rules.transactionLimits)
        await remember(abandoned: abandoned)
        let membership = bang.rules.membership.applying(try await store.memberEvents(chain: id, atOrBelow: height - 1))
        let dropped = await install(tip: ancestor, membership: membership, committed: [], returned: orphaned)
        await forget(dropped, reason: .removedRole)
        logger.warning("rolled back Quants sealed by an equivocator", metadata: [
            "chain": "\(rules.name)", "from": "\(height)", "orphanedTransactions": "\(orphaned.count)"])
        environment.observer?.switched(chain: id, ancestor: height - 1, to: [], orphaned: orphaned.map(\.id))
        if !orphaned.isEmpty { admissionsSink.yield(orphaned) }
    }

    /// Evidence this node holds, to pass on to peers with its tip: the lowest height per
    /// authority (what decides), at most `maxEvidence` authorities.
    public nonisolated func evidence() async throws(StorageError) -> [Equivocation] {
        var lowest = [PublicKey: Equivocation]()
        for evidence in try await store.equivocations(chain: id) where lowest[evidence.proposer].map({ evidence.height < $0.height }) ?? true {
            lowest[evidence.proposer] = evidence
        }
        return Array(lowest.values.sorted { ($0.height, $0.first.hash) < ($1.height, $1.first.hash) }.prefix(Self.maxEvidence))
    }

    /// Most pieces of evidence passed on with a tip (one per authority).
    public static let maxEvidence = 64
}
