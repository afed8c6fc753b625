import Logging
public import QBCCore
public import QBCCrypto
public import QBCStorage
import Synchronization

/// One chain on this node: its tip, mempool and producer. State lives in the actor; every piece of
/// I/O (signature checks, disk) happens outside it, so no caller ever waits on the actor while
/// another does I/O. Every write — a Leap, a peer's Quant, a fork switch, a rollback — goes
/// through one `CommitGate`, one at a time in arrival order.
public actor ChainService {
    public nonisolated let bang: Bang
    public nonisolated let id: ChainID
    public nonisolated let proposer: PublicKey
    /// The chain's consensus engine: everything that differs between engines is asked of it.
    public nonisolated let engine: any ConsensusEngine
    public nonisolated let mempoolCapacity: Int
    /// The node's key: signs Quants under proof of authority.
    let sealer: SigningKey
    let store: any BlockStore
    let environment: NodeEnvironment
    let gate = CommitGate()
    let leapSlot = LeapSlot()
    /// Authorities with evidence against them: their Quants above that height are refused.
    var equivocators: Equivocators
    var tip: StoredHeader?
    /// When the tip last moved (or the chain opened), and when waiting transactions were last
    /// pushed to peers again because it did not (see `stalled`).
    var tipMovedAt: Timestamp
    var rebroadcastAt: Timestamp
    /// Headers of Quants this node held and gave up in fork switches since it started, by height,
    /// so that a second header by one proposer on one parent is caught even after the first was
    /// abandoned. Bounded by `rememberedHeaders`.
    var abandoned: [UInt64: [QuantHeader]] = [:]
    var abandonedCount = 0
    static let rememberedHeaders = 1024
    var mempool: Mempool {
        // A simple didSet (no oldValue) keeps mutations in place.
        didSet {
            let now = mempool.bytes
            if now != budgeted {
                environment.mempoolBudget.add(now - budgeted)
                budgeted = now
            }
        }
    }
    /// This chain's share of the node's mempool budget, as last told to it.
    private var budgeted = 0

    deinit { environment.mempoolBudget.add(-budgeted) }
    /// Membership at the tip, readable without the actor (peer authentication reads it per request).
    private nonisolated let membershipState: Mutex<Membership>
    var leapsCompleted = 0
    nonisolated let metrics: ChainMetrics
    /// Wakes event-stream readers after every change to the committed history.
    public nonisolated let changes = ChainSignal()
    /// BFT: pieces of conflict evidence seen since the chain opened (stored ones included).
    var finalityConflicts = 0

    /// Transactions to relay: admitted from clients (not from peers), or orphaned by a fork switch.
    public nonisolated let admissions: AsyncStream<[Transaction]>
    let admissionsSink: AsyncStream<[Transaction]>.Continuation
    /// Quants this node sealed, for the network to announce.
    public nonisolated let sealed: AsyncStream<Quant>
    let sealedSink: AsyncStream<Quant>.Continuation

    public nonisolated var rules: ChainRules { bang.rules }
    /// Who holds which roles at the tip: the Bang's members changed by every committed change.
    public nonisolated var membership: Membership { membershipState.withLock { $0 } }
    nonisolated var logger: Logger { environment.logger }

    /// Opens the chain from the store, checking the stored tip links up to its parent, and
    /// reloads the persisted mempool.
    public init(bang: Bang, store: any BlockStore, sealer: SigningKey, mempoolCapacity: Int, environment: NodeEnvironment)
        async throws(StorageError)
    {
        self.bang = bang
        id = bang.id
        engine = bang.rules.consensus.engine
        self.sealer = sealer
        proposer = sealer.publicKey
        self.store = store
        self.environment = environment
        metrics = ChainMetrics(chain: bang.rules.name)
        // Bounded: if the network falls behind, relaying is dropped, never the node's memory;
        // dropped transactions still reach peers inside Quants.
        (admissions, admissionsSink) = AsyncStream.makeStream(of: [Transaction].self, bufferingPolicy: .bufferingNewest(1024))
        (sealed, sealedSink) = AsyncStream.makeStream(of: Quant.self, bufferingPolicy: .bufferingNewest(256))
        let tip = try await store.tip(chain: bang.id)
        try await Self.checkLinks(store: store, chain: bang.id, tip: tip)
        self.tip = tip
        tipMovedAt = environment.clock.now()
        rebroadcastAt = tipMovedAt
        equivocators = try await store.equivocators(chain: bang.id)
        finalityConflicts = bang.rules.consensus.engine.commitsAreFinal ? try await store.finalityConflicts(chain: bang.id).count : 0
        let events = try await store.memberEvents(chain: bang.id, atOrBelow: tip?.header.height ?? 0)
        let membership = bang.rules.membership.applying(events)
        membershipState = Mutex(membership)
        self.mempoolCapacity = mempoolCapacity
        var mempool = Mempool(capacity: mempoolCapacity)
        // Fork switches return orphans past the capacity (they were admitted once, and must not
        // be lost): the stored mempool can hold that many more.
        let waiting = try await store.mempool(
            chain: bang.id, limit: mempoolCapacity + Self.maxBranchTransactions, limits: bang.rules.transactionLimits)
        // A crash between committing a membership change and dropping what its removed members
        // had waiting leaves those stored: judge them again, or no Quant could hold them.
        let unfit = waiting.filter { $0.encodedSize > bang.rules.quantLimits.maxBytes }.map(\.id)
        let unwelcome = Self.wait(
            waiting.filter { $0.encodedSize <= bang.rules.quantLimits.maxBytes }, in: &mempool, membership: membership)
        self.mempool = mempool
        environment.mempoolBudget.add(mempool.bytes)
        budgeted = mempool.bytes
        for (dropped, reason) in [(unwelcome, DropReason.removedRole), (unfit, .tooLarge)] where !dropped.isEmpty {
            try await store.removeFromMempool(dropped)
            environment.observer?.dropped(dropped, on: bang.id, reason: reason)
        }
    }

    /// The tip must be a well-formed child of the Quant below it (or of the Bang).
    static func checkLinks(store: any BlockStore, chain: ChainID, tip: StoredHeader?) async throws(StorageError) {
        guard let tip else { return }
        let previousHash: Hash
        if tip.header.height == 1 {
            previousHash = chain
        } else {
            guard let parent = try await store.header(chain: chain, height: tip.header.height - 1) else {
                throw StorageError(.corrupt, "stored chain has a gap below height \(tip.header.height)")
            }
            previousHash = parent.hash
        }
        guard tip.header.previous == previousHash, tip.header.chain == chain else {
            throw StorageError(.corrupt, "stored tip at height \(tip.header.height) does not link to its parent")
        }
    }

    // MARK: Admission

    /// Admits signed transactions: context-free checks and signatures in parallel first, then
    /// membership and duplicates against this actor's state, then persistence, which refuses in
    /// the same atomic step any transaction committed meanwhile. Outcomes are in input order.
    /// Throws only when storage fails (then nothing from this batch is admitted).
    public nonisolated func admit(_ transactions: [Transaction], now: Timestamp, relay: Bool = true) async throws(StorageError)
        -> [AdmissionOutcome]
    {
        var outcomes = [AdmissionOutcome?](repeating: nil, count: transactions.count)
        var candidates = [(Int, Transaction)]()
        // Read once: the rules are a sizeable value, copied on every access.
        let rules = self.rules
        var roles = RoleCheck(self.membership)
        for (index, tx) in transactions.enumerated() {
            do throws(RuleError) {
                guard tx.chain == id else {
                    throw RuleError(.wrongChain, "transaction is for chain \(tx.chain.hex), this is \(id.hex) (\(rules.name))")
                }
                try TransactionRules.checkStructure(tx, limits: rules.transactionLimits, now: now)
                // The role first: membership is public, and a stranger's batch signed by keys
                // that may not write must not cost a signature check each.
                guard Self.mayWait(tx, &roles) else { throw Self.mayNotWait(tx, rules: rules) }
                // A transaction no Quant of this chain can hold would wait first in line forever.
                guard tx.encodedSize <= rules.quantLimits.maxBytes else {
                    throw RuleError(
                        .payloadTooLarge,
                        "the transaction takes \(tx.encodedSize) bytes; a Quant of chain \(rules.name) holds at most \(rules.quantLimits.maxBytes)")
                }
                try rules.payload.check(tx)
                if tx.contentType == MembershipChange.contentType { try await checkGovernance(tx) }
                candidates.append((index, tx))
            } catch {
                outcomes[index] = .rejected(tx.id, error)
            }
        }
        // What waits already is refused before its signature is checked: peers push waiting
        // transactions again when a chain stalls, and a replay flood should cost nothing.
        let known = await waitingAmong(candidates.map(\.1.id))
        if !known.isEmpty {
            for (index, tx) in candidates where known.contains(tx.id) {
                outcomes[index] = .rejected(tx.id, Self.alreadyWaiting(tx.id))
            }
            candidates.removeAll { known.contains($0.1.id) }
        }
        // A full mempool refuses at once: verifying what cannot wait would only burn the cores.
        if await isFull {
            let full = await fullError
            for (index, tx) in candidates {
                outcomes[index] = .rejected(tx.id, full)
            }
            candidates = []
        }
        let valid = await ParallelVerifier.verify(candidates.map(\.1), threads: environment.verifierThreads)
        var verified = [(Int, Transaction)]()
        for ((index, tx), ok) in zip(candidates, valid) {
            if ok {
                verified.append((index, tx))
            } else {
                do throws(RuleError) { try TransactionRules.checkSignature(tx) } catch { outcomes[index] = .rejected(tx.id, error) }
            }
        }
        let (reserved, refused) = await reserve(verified)
        for (index, tx, error) in refused { outcomes[index] = .rejected(tx.id, error) }
        do {
            let already = try await store.addToMempool(reserved.map(\.1))
            let fresh = reserved.filter { !already.contains($0.1.id) }
            for (index, tx) in reserved where already.contains(tx.id) {
                outcomes[index] = .rejected(tx.id, RuleError(.duplicate, "transaction \(tx.id.hex) is already committed"))
            }
            // A membership change committed meanwhile may have dropped some from memory (its
            // purge ran before their rows existed): their rows go too, and so does the verdict.
            let gone = await settle(confirmed: fresh.map(\.1), dropped: already)
            if !gone.isEmpty { try await store.removeFromMempool(Array(gone)) }
            for (index, tx) in fresh {
                outcomes[index] = gone.contains(tx.id) ? .rejected(tx.id, Self.mayNotWait(tx, rules: rules)) : .admitted(tx.id)
            }
            let admitted = fresh.map(\.1).filter { !gone.contains($0.id) }
            if relay, !admitted.isEmpty { admissionsSink.yield(admitted) }
        } catch {
            await settle(confirmed: [], dropped: Set(reserved.map(\.1.id)))
            throw error
        }
        return outcomes.map { outcome in
            // Every index is set above (rejected early, refused, duplicate or admitted).
            guard let outcome else { preconditionFailure("admission left a transaction without a verdict") }
            return outcome
        }
    }

    private var isFull: Bool { mempool.count >= mempool.capacity || !environment.mempoolBudget.hasRoom(for: 1) }

    private func waitingAmong(_ ids: [TransactionID]) -> Set<TransactionID> { Set(ids.lazy.filter(mempool.contains)) }

    static func alreadyWaiting(_ id: TransactionID) -> RuleError {
        RuleError(.duplicate, "transaction \(id.hex) is already waiting in the mempool")
    }

    static func full(_ capacity: Int) -> RuleError {
        RuleError(.mempoolFull, "the mempool holds \(capacity) transactions; retry after the next Leap")
    }

    static func fullOfBytes(_ budget: MempoolBudget) -> RuleError {
        RuleError(.mempoolFull, "the node's mempools hold \(budget.limit) bytes of transactions (node.mempoolBytes); retry after the next Leap")
    }

    /// Why a mempool full by count or by bytes refuses.
    private var fullError: RuleError {
        mempool.count >= mempool.capacity ? Self.full(mempool.capacity) : Self.fullOfBytes(environment.mempoolBudget)
    }

    private func reserve(_ verified: [(Int, Transaction)]) -> (
        reserved: [(Int, Transaction)], refused: [(Int, Transaction, RuleError)]
    ) {
        var reserved = [(Int, Transaction)]()
        var refused = [(Int, Transaction, RuleError)]()
        var roles = RoleCheck(membership)
        for (index, tx) in verified {
            if !Self.mayWait(tx, &roles) {
                refused.append((index, tx, Self.mayNotWait(tx, rules: rules)))
            } else if mempool.count >= mempool.capacity {
                refused.append((index, tx, Self.full(mempool.capacity)))
            } else if !environment.mempoolBudget.hasRoom(for: tx.encodedSize) {
                refused.append((index, tx, Self.fullOfBytes(environment.mempoolBudget)))
            } else if !mempool.reserve(tx) {
                refused.append((index, tx, Self.alreadyWaiting(tx.id)))
            } else {
                reserved.append((index, tx))
            }
        }
        return (reserved, refused)
    }

    /// A membership change must hold against the tip's membership and not be applied already.
    private nonisolated func checkGovernance(_ tx: Transaction) async throws(RuleError) {
        let current = membership
        let change = try Governance.check(tx, membership: current, current: current, rules: rules, chain: id)
        let applied = (try? await store.appliedChanges([change.id], chain: id, atOrBelow: .max)) ?? []
        guard applied.isEmpty else {
            throw RuleError(.duplicate, "membership change \(change.id.hex) is already applied on this chain")
        }
    }

    /// Puts `transactions` (already admitted once) in `mempool` as ready to seal, except those
    /// whose sender may not wait under `membership`; returns the ids of those.
    static func wait(_ transactions: [Transaction], in mempool: inout Mempool, membership: Membership) -> [TransactionID] {
        var refused = [TransactionID]()
        for tx in transactions {
            if !mayWait(tx, membership: membership) {
                refused.append(tx.id)
            } else if mempool.reserve(tx) {
                mempool.confirm([tx.id])
            }
        }
        return refused
    }

    /// The most transactions a fork switch may hand back to the mempool (sync bounds the branches
    /// it switches to by this), past the mempool's capacity if need be.
    public static let maxBranchTransactions = 200_000

    static func mayNotWait(_ tx: Transaction, rules: ChainRules) -> RuleError {
        RuleError(.notAuthorized, "sender \(tx.sender.hex) does not hold the \(tx.senderRole) role on chain \(rules.name)")
    }

    /// Writers may have transactions waiting, admins membership changes, readers read keys.
    static func mayWait(_ tx: Transaction, membership: Membership) -> Bool { membership.holds(tx.sender, tx.senderRole) }
    static func mayWait(_ tx: Transaction, _ roles: inout RoleCheck) -> Bool { roles.holds(tx.sender, tx.senderRole) }

    /// Returns the ids of confirmed transactions dropped while they were being stored (their
    /// sender lost its role); others missing from the mempool were committed meanwhile.
    @discardableResult
    private func settle(confirmed: [Transaction], dropped: Set<TransactionID>) -> Set<TransactionID> {
        // The role first: it is remembered per sender, and the mempool is probed only for the
        // rare transaction whose sender lost it.
        var roles = RoleCheck(membership)
        var gone = Set<TransactionID>()
        for tx in confirmed where !Self.mayWait(tx, &roles) && !mempool.contains(tx.id) { gone.insert(tx.id) }
        mempool.confirm(confirmed.map(\.id))
        mempool.remove(dropped)
        return gone
    }

    // MARK: Commits

    /// Installs a new tip after a commit, a switch or a rollback: `committed` transactions leave
    /// the mempool, `returned` ones (orphaned) wait again, and the membership at the new tip
    /// applies. Waiting transactions whose senders lost the role they need are dropped. Returns
    /// the ids dropped, for the caller to remove from the stored mempool outside the actor.
    /// `leap`: the commit was this node's own Leap (counted for `/stats`).
    func install(
        tip newTip: StoredHeader?, membership next: Membership, committed: [TransactionID], returned: [Transaction] = [],
        leap: Bool = false
    ) -> [TransactionID] {
        if leap {
            leapsCompleted += 1
            metrics.leapCommitted()
        }
        tip = newTip
        tipMovedAt = environment.clock.now()
        changes.notify()
        mempool.remove(committed)
        // Orphans are judged by the new tip's membership like everything that waits.
        let dropped = Self.wait(returned, in: &mempool, membership: next)
        guard next != membership else { return dropped }
        membershipState.withLock { $0 = next }
        let lost = mempool.ids { !Self.mayWait($0, membership: next) }
        mempool.remove(lost)
        return dropped + lost
    }

    /// Removes dropped transactions from the stored mempool and tells the observer why.
    nonisolated func forget(_ dropped: [TransactionID], reason: DropReason) async {
        guard !dropped.isEmpty else { return }
        do { try await store.removeFromMempool(dropped) } catch {
            // They are gone from memory; on restart they are reloaded and dropped again.
            logger.warning("removing dropped transactions from the stored mempool failed", metadata: ["error": "\(error)"])
        }
        environment.observer?.dropped(dropped, on: id, reason: reason)
    }

    /// Remembers headers given up in a switch or rollback, dropping the lowest heights first.
    func remember(abandoned headers: [StoredHeader]) {
        for stored in headers {
            abandoned[stored.header.height, default: []].append(stored.header)
            abandonedCount += 1
        }
        while abandonedCount > Self.rememberedHeaders, let lowest = abandoned.keys.min() {
            abandonedCount -= abandoned.removeValue(forKey: lowest)?.count ?? 0
        }
    }

    func abandonedHeaders(at height: UInt64) -> [QuantHeader] { abandoned[height] ?? [] }

    /// The stored header of `quant` on top of `parent`, weighed by this chain's engine.
    nonisolated func stored(_ quant: Quant, parent: StoredHeader?) -> StoredHeader {
        StoredHeader(quant, parent: parent, work: engine.weight(of: quant.header))
    }
}
