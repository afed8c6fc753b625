import QBCCore
import QBCCrypto
import QBCNode
import QBCStorage

/// The checks at the end of a run, after the network healed and went quiet.
extension World {
    func check() async {
        let live = nodes.compactMap(\.incarnation)
        guard live.count == nodes.count else {
            recorder.violated("liveness: \(nodes.count - live.count) nodes are not running at the end")
            return
        }
        // Every honest node serves the same chains, on the same tips.
        let reference = live[0].directory.all
        for (index, incarnation) in live.enumerated() {
            let served = Set(incarnation.directory.all.map(\.id))
            guard served == Set(reference.map(\.id)) else {
                recorder.violated("agreement: node\(index) serves \(served.count) chains, node0 \(reference.count)")
                return
            }
        }
        for chain in reference {
            let tip = await chain.peerTip()
            for (index, incarnation) in live.enumerated() {
                guard let other = incarnation.directory.chain(chain.id) else { continue }
                let theirs = await other.peerTip()
                guard theirs.hash == tip.hash else {
                    let (mine, yours) = (await chain.stats(), await other.stats())
                    recorder.violated(
                        "agreement: node\(index) and node0 end on different tips of \(chain.rules.name): height \(theirs.height) work \(theirs.cumulativeWork) waiting \(yours.mempoolSize), node0 height \(tip.height) work \(tip.cumulativeWork) waiting \(mine.mempoolSize)")
                    return
                }
                if let other = incarnation.directory.chain(chain.id), await other.stats().mempoolSize > 0 {
                    recorder.violated("liveness: node\(index) still has \(await other.stats().mempoolSize) transactions waiting on \(chain.rules.name) after the quiet period")
                    return
                }
            }
            recorder.trace("chain \(chain.rules.name) ends at \(tip.height) \(tip.hash.hex.prefix(12))")
        }
        // The stored mempool never holds a committed transaction (after a restart it would be
        // sealed again, and every Leap would fail on it).
        for (index, node) in nodes.enumerated() {
            for chain in reference {
                do {
                    let waiting = try await node.durable.mempool(chain: chain.id, limit: .max, limits: chain.rules.transactionLimits)
                    if let stale = try await node.durable.committed(waiting.map(\.id)).first {
                        recorder.violated("durability: node\(index)'s stored mempool holds \(stale.hex), which is committed")
                        return
                    }
                } catch {
                    recorder.violated("storage: node\(index): \(error)")
                    return
                }
            }
        }
        var committed = Set<TransactionID>()
        for chain in reference {
            guard let ids = await validate(chain) else { return }
            committed.formUnion(ids)
        }
        // Every transaction a client had admitted is committed, or dropped for a stated reason.
        let snapshot = recorder.snapshot
        for (id, _) in snapshot.admitted where !committed.contains(id) && snapshot.dropped[id] == nil {
            recorder.violated("durability: admitted transaction \(id.hex) is neither committed nor dropped for a reason")
            return
        }
        // Two Quants that the engine counts as evidence (under proof of authority: one authority
        // sealed both on one parent), both committed by one honest node since it started, are
        // known to every node in the end.
        for (witness, chains) in snapshot.seen.sorted(by: { $0.key < $1.key }) {
            for (chainID, heights) in chains {
                guard let engine = live[0].directory.chain(chainID)?.engine else { continue }
                for (height, proposers) in heights {
                    for (proposer, headers) in proposers where headers.count > 1 {
                        let list = Array(headers)
                        let evidence = list.indices.contains { i in list.indices.contains { j in i < j && engine.equivocation(list[i], list[j]) != nil } }
                        guard evidence else { continue }
                        for (index, incarnation) in live.enumerated() {
                            guard let chain = incarnation.directory.chain(chainID), await chain.stats().equivocators.contains(proposer) else {
                                recorder.violated("evidence: \(witness) saw \(proposer.hex.prefix(8)) seal two Quants at height \(height), but node\(index) does not know")
                                return
                            }
                        }
                    }
                }
            }
        }
        recorder.trace("checks passed: \(committed.count) transactions committed, \(snapshot.admitted.count) admitted by clients")
    }

    /// Walks a chain from its Bang as a new node would: every rule, every signature, every
    /// transaction once. Returns the committed ids, or nil after reporting the violation.
    private func validate(_ chain: ChainService) async -> Set<TransactionID>? {
        let store = chain.reader
        let rules = chain.rules
        let engine = chain.engine
        let now = Timestamp(milliseconds: scheduler.now + 600_000)
        do {
            let banned = try await store.equivocators(chain: chain.id)
            var parent: StoredHeader?
            var membership = rules.membership
            var timestamps = [UInt64: Timestamp]()
            var seen = Set<TransactionID>()
            var height: UInt64 = 1
            while let stored = try await store.header(chain: chain.id, height: height) {
                let quant = Quant(
                    header: stored.header, transactions: try await store.transactions(chain: chain.id, height: height, limits: rules.transactionLimits),
                    certificate: stored.certificate)
                let windowStart = engine.windowStart(above: height - 1).map { $0 == 0 ? chain.bang.timestamp : timestamps[$0] ?? chain.bang.timestamp }
                let summary = QuantRules.Parent(
                    height: height - 1, hash: parent?.hash ?? chain.id, timestamp: parent?.header.timestamp ?? chain.bang.timestamp,
                    difficultyBits: parent?.header.difficultyBits ?? 0, windowStart: windowStart)
                try QuantRules.checkHeader(quant.header, parent: summary, chain: chain.id, rules: rules, membership: membership, now: now, banned: banned)
                try engine.checkCertificate(quant.certificate, of: quant.header, hash: quant.hash, membership: membership)
                membership = try QuantRules.checkBody(quant, rules: rules, membership: membership).membership
                for tx in quant.transactions {
                    guard tx.hasValidSignature else { throw RuleError(.badSignature, "transaction \(tx.id.hex)") }
                    guard seen.insert(tx.id).inserted else { throw RuleError(.duplicate, "transaction \(tx.id.hex) is committed twice") }
                }
                let expected = StoredHeader(quant, parent: parent, work: engine.weight(of: quant.header))
                guard expected == stored else { throw RuleError(.badProof, "stored totals at height \(height) do not add up") }
                timestamps[height] = quant.header.timestamp
                parent = stored
                height += 1
            }
            return seen
        } catch {
            recorder.violated("validity: \(chain.rules.name) at node0 breaks a rule: \(error)")
            return nil
        }
    }
}
