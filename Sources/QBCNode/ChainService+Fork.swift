public import QBCCore
import QBCCrypto
public import QBCStorage

/// What happened to an offered fork.
public enum ForkOutcome: Sendable {
    /// The branch was valid and heavier: it replaced this node's Quants above the common ancestor.
    case switched(StoredHeader, orphaned: Int)
    /// A rule is broken somewhere in the branch; nothing changed.
    case rejected(RuleError)
    /// The branch is valid but not heavier than this node's chain; nothing changed.
    case notHeavier
    case busy
}

extension ChainService {
    /// Switches to `branch` (consecutive Quants whose first one's parent is stored here) when fork
    /// choice prefers it: more cumulative work, or equal work and a lower tip hash. The whole branch is checked first,
    /// every rule and signature, replays against the history below the fork included; then the
    /// store swaps it in with one database transaction. Transactions only in the abandoned
    /// Quants go back to the mempool.
    public nonisolated func switchTo(_ branch: [Quant], now: Timestamp) async throws(StorageError) -> ForkOutcome {
        guard let first = branch.first, first.header.height >= 1 else { return .notHeavier }
        guard let ours = await commitLock() else { return .busy }
        let ancestorHeight = first.header.height - 1
        do {
            let ancestor = ancestorHeight == 0 ? nil : try store.header(chain: id, height: ancestorHeight)
            guard ancestorHeight == 0 || ancestor != nil else {
                await endCommit(committed: nil, transactions: [])
                return .rejected(RuleError(.wrongHeight, "the branch starts above this node's chain"))
            }
            let start = bang.rules.membership.applying(try store.memberEvents(chain: id, atOrBelow: ancestorHeight))
            let checked = await check(branch, ancestor: ancestor, membership: start, ours: ours, now: now)
            guard case .success(let (membership, events)) = checked else {
                await endCommit(committed: nil, transactions: [])
                if case .failure(let refusal) = checked { return refusal.outcome }
                return .notHeavier
            }
            let ids = branch.flatMap { $0.transactions.map(\.id) }
            if let replay = try store.committed(ids, chain: id, atOrBelow: ancestorHeight).first {
                await endCommit(committed: nil, transactions: [])
                return .rejected(RuleError(.duplicate, "transaction \(replay.hex) is already committed below the fork"))
            }
            let changes = events.flatMap { $0.map(\.change) }
            if let applied = try store.appliedChanges(changes, chain: id, atOrBelow: ancestorHeight).first {
                await endCommit(committed: nil, transactions: [])
                return .rejected(RuleError(.duplicate, "membership change \(applied.hex) is already applied below the fork"))
            }
            let (tip, orphaned) = try store.replace(
                above: ancestor, chain: id, with: branch, events: events, limits: rules.transactionLimits)
            await endFork(tip: tip, committed: ids, orphaned: orphaned, membership: membership)
            return .switched(tip, orphaned: orphaned.count)
        } catch {
            await endCommit(committed: nil, transactions: [])
            throw error
        }
    }

    /// Why a branch is not taken.
    private struct Refusal: Error { let outcome: ForkOutcome }

    /// The membership at the branch's tip and each Quant's changes when the branch is valid and
    /// heavier; otherwise why not. `membership` is the membership at the common ancestor.
    private nonisolated func check(
        _ branch: [Quant], ancestor: StoredHeader?, membership: Membership, ours: StoredHeader?, now: Timestamp
    ) async -> Result<(Membership, [[MemberEvent]]), Refusal> {
        var timestamps = [UInt64: Timestamp]()
        for quant in branch { timestamps[quant.header.height] = quant.header.timestamp }
        let lookup: (UInt64) -> Timestamp? = { height in
            timestamps[height] ?? (try? self.store.header(chain: self.id, height: height))?.header.timestamp
        }
        var parent = summary(
            height: ancestor?.header.height ?? 0, hash: ancestor?.hash ?? id,
            timestamp: ancestor?.header.timestamp ?? bang.timestamp, difficultyBits: ancestor?.header.difficultyBits,
            timestampAt: lookup)
        var work = ancestor?.cumulativeWork ?? 0
        var seen = Set<TransactionID>()
        var changes = Set<Hash>()
        var membership = membership
        var events = [[MemberEvent]]()
        let banned = await equivocators
        do throws(RuleError) {
            for quant in branch {
                try QuantRules.checkHeader(
                    quant.header, parent: parent, chain: id, rules: rules, membership: membership, now: now, banned: banned)
                let update = try QuantRules.checkBody(quant, rules: rules, membership: membership)
                for tx in quant.transactions where !seen.insert(tx.id).inserted {
                    throw RuleError(.duplicate, "transaction \(tx.id.hex) appears twice in the branch")
                }
                for event in update.events where !changes.insert(event.change).inserted {
                    throw RuleError(.duplicate, "membership change \(event.change.hex) appears twice in the branch")
                }
                membership = update.membership
                events.append(update.events)
                work += quant.header.work
                parent = summary(
                    height: quant.header.height, hash: quant.hash, timestamp: quant.header.timestamp,
                    difficultyBits: quant.header.difficultyBits, timestampAt: lookup)
            }
            guard ForkChoice.prefers(
                candidateWork: work, candidateTip: parent.hash, over: ours?.cumulativeWork ?? 0, currentTip: ours?.hash ?? id)
            else { return .failure(Refusal(outcome: .notHeavier)) }
            try await checkSignatures(branch.flatMap(\.transactions))
        } catch {
            return .failure(Refusal(outcome: .rejected(error)))
        }
        return .success((membership, events))
    }

    private func endFork(tip newTip: StoredHeader, committed: [TransactionID], orphaned: [Transaction], membership: Membership) {
        tip = newTip
        mempool.remove(committed)
        for tx in orphaned where mempool.reserve(tx) { mempool.confirm([tx.id]) }
        adopt(membership)
        sealing = false
    }
}
