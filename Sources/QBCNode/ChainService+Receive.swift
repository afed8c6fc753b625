import Logging
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
}

extension ChainService {
    /// Checks a Quant received from a peer against every rule, as if this node had never seen any
    /// of it: header, proof, Merkle root, limits, writer roles, every signature (on all cores),
    /// and replays against the committed chain. Commits it when all hold. Its transactions leave
    /// the mempool, in whatever state they were. A Leap searching for a seal is stopped, so the
    /// peer's Quant goes first.
    /// `signaturesVerified`: the caller verified every signature of this very Quant;
    /// `merkleRootChecked`: it computed this very Quant's root from its transactions and found the
    /// header's (sync does both, for the next page while it stores this one, D73); the other
    /// rules are all checked here.
    public nonisolated func receive(_ quant: Quant, now: Timestamp, signaturesVerified: Bool = false, merkleRootChecked: Bool = false)
        async throws(StorageError) -> ReceiveOutcome
    {
        // Only a Quant that extends the tip stops a running seal: a stale or unrelated one, which
        // any peer can send at no cost, waits for the gate like everything else.
        let current = await tip
        let extendsTip = quant.header.height == (current?.header.height ?? 0) &+ 1 && quant.header.previous == (current?.hash ?? id)
        await gate.enter("received Quant", interrupting: extendsTip)
        defer { gate.leave() }
        let parent = await tip
        let parentHeight = parent?.header.height ?? 0
        guard quant.header.height == parentHeight &+ 1, quant.header.previous == (parent?.hash ?? id) else {
            if let conflict = try await finalityConflict(with: quant) { return .rejected(try await record(conflict)) }
            if let evidence = try await equivocation(with: quant.header) {
                try await record(evidence, holdingGate: true)
                return .rejected(RuleError(
                    .equivocation, "authority \(evidence.proposer.hex) sealed two different Quants on one parent at height \(evidence.height); its Quants above it are refused"))
            }
            return .notOnTip(tipHeight: parentHeight)
        }
        let update: (membership: Membership, events: [MemberEvent])
        switch try await verdict(
            quant, parent: parent, now: now, certified: true, signaturesVerified: signaturesVerified, merkleRootChecked: merkleRootChecked)
        {
        case .failure(let error): return .rejected(error)
        case .success(let checked): update = checked
        }
        let record = QuantRecord(quant: quant, stored: stored(quant, parent: parent), events: update.events)
        // Replays are found by the commit, which looks up every id anyway: a separate read before
        // it looked each up a second time (a sync's every transaction, issue 18).
        do {
            try await store.commit(record)
        } catch where error.kind == .replayed {
            return .rejected(RuleError(.duplicate, error.message))
        }
        let dropped = await install(tip: record.stored, membership: update.membership, committed: quant.transactions.map(\.id))
        await forget(dropped, reason: .removedRole)
        environment.observer?.committed(quant, on: id)
        return .committed(record.stored)
    }

    /// Every rule for a Quant on `parent`, the tip: header and proof, under BFT the certificate
    /// (`certified`), body, signatures, and membership changes applied before; not replays of
    /// committed transactions, which the commit refuses (`StorageError.Kind.replayed`). Returns the
    /// membership after it and the changes it applies.
    nonisolated func verdict(
        _ quant: Quant, parent: StoredHeader?, now: Timestamp, certified: Bool, signaturesVerified: Bool = false, merkleRootChecked: Bool = false
    ) async throws(StorageError) -> Result<(membership: Membership, events: [MemberEvent]), RuleError>
    {
        let membership = self.membership
        let parentSummary = try await summary(of: parent)
        let banned = await equivocators
        let update: (membership: Membership, events: [MemberEvent])
        do throws(RuleError) {
            try QuantRules.checkHeader(
                quant.header, parent: parentSummary, chain: id, rules: rules, membership: membership, now: now, banned: banned)
            if certified { try engine.checkCertificate(quant.certificate, of: quant.header, hash: quant.hash, membership: membership) }
            update = try QuantRules.checkBody(quant, rules: rules, membership: membership, merkleRootChecked: merkleRootChecked)
            if !signaturesVerified { try await checkSignatures(quant.transactions) }
        } catch {
            return .failure(error)
        }
        if let applied = try await store.appliedChanges(update.events.map(\.change), chain: id, atOrBelow: .max).first {
            return .failure(RuleError(.duplicate, "membership change \(applied.hex) is already applied on this chain"))
        }
        return .success(update)
    }

    /// BFT: whether a proposed Quant may be voted for: every rule against the tip as it is now,
    /// but no certificate (it has none yet). nil when it passes.
    public nonisolated func judge(_ quant: Quant, now: Timestamp) async throws(StorageError) -> RuleError? {
        let parent = await tip
        guard quant.header.height == (parent?.header.height ?? 0) &+ 1, quant.header.previous == (parent?.hash ?? id) else {
            return RuleError(.wrongPrevious, "the proposed Quant does not extend this node's tip")
        }
        if case .failure(let error) = try await verdict(quant, parent: parent, now: now, certified: false) { return error }
        if let replay = try await store.committed(quant.transactions.map(\.id)).first {
            return RuleError(.duplicate, "transaction \(replay.hex) is already committed on this chain")
        }
        return nil
    }

    /// What the Quant above a parent is checked against. `timestampAt` finds the timestamp of an
    /// older Quant when the engine needs one (a retarget window's start).
    nonisolated func summary(
        height: UInt64, hash: Hash, timestamp: Timestamp, difficultyBits: UInt8,
        timestampAt: (UInt64) async throws(StorageError) -> Timestamp?
    ) async throws(StorageError) -> QuantRules.Parent {
        var windowStart: Timestamp?
        if let start = engine.windowStart(above: height) {
            windowStart = start == 0 ? bang.timestamp : try await timestampAt(start)
        }
        return QuantRules.Parent(height: height, hash: hash, timestamp: timestamp, difficultyBits: difficultyBits, windowStart: windowStart)
    }

    /// The summary of a stored parent (nil: the Bang), older timestamps from the store.
    nonisolated func summary(of parent: StoredHeader?) async throws(StorageError) -> QuantRules.Parent {
        try await summary(
            height: parent?.header.height ?? 0, hash: parent?.hash ?? id, timestamp: parent?.header.timestamp ?? bang.timestamp,
            difficultyBits: parent?.header.difficultyBits ?? 0,
            timestampAt: { height throws(StorageError) in try await store.header(chain: id, height: height)?.header.timestamp })
    }

    /// Verifies every signature on all cores, except those of transactions this node already
    /// verified at admission: same id (which covers every signed field) and same signature bytes.
    nonisolated func checkSignatures(_ transactions: [Transaction]) async throws(RuleError) {
        let known = await verifiedInMempool(transactions)
        let unknown = zip(transactions, known).filter { !$0.1 }.map(\.0)
        let valid = await ParallelVerifier.verify(unknown, threads: environment.verifierThreads)
        if let bad = zip(unknown, valid).first(where: { !$0.1 })?.0 { try TransactionRules.checkSignature(bad) }
    }

    private func verifiedInMempool(_ transactions: [Transaction]) -> [Bool] {
        transactions.map { mempool.transaction($0.id)?.signature == $0.signature }
    }

    /// BFT: evidence, when `quant` carries a valid certificate for a height where this node holds
    /// another final Quant.
    nonisolated func finalityConflict(with quant: Quant) async throws(StorageError) -> FinalityConflict? {
        guard engine.commitsAreFinal, quant.header.chain == id, quant.certificate != nil, quant.header.height >= 1,
            let stored = try await store.header(chain: id, height: quant.header.height), stored.hash != quant.hash
        else { return nil }
        let membership = bang.rules.membership.applying(try await store.memberEvents(chain: id, atOrBelow: quant.header.height - 1))
        let ours = Quant(header: stored.header, transactions: [], certificate: stored.certificate)
        // The stranger's certificate is checked first: a bad one costs no check of ours.
        return FinalityConflict(quant, ours, authorities: membership.members(with: .authority))
    }

    /// Stores conflict evidence and refuses the authorities that signed both certificates;
    /// returns the refusal to answer with. Holding the gate or not: nothing is rolled back, a
    /// final Quant stays.
    nonisolated func record(_ conflict: FinalityConflict) async throws(StorageError) -> RuleError {
        try await store.record(conflict)
        if await noteConflict(conflict) {
            logger.critical("two certified Quants at one height: more than f authorities broke the rules", metadata: [
                "chain": "\(rules.name)", "height": "\(conflict.height)", "signers": "\(conflict.signers.map(\.hex))"])
        }
        return RuleError(
            .conflictsWithFinal,
            "a certified Quant at height \(conflict.height) conflicts with this node's final one; \(conflict.signers.count) authorities signed both and are refused")
    }

    private func noteConflict(_ conflict: FinalityConflict) -> Bool {
        finalityConflicts += 1
        return equivocators.record(conflict)
    }

    /// BFT: true when `key`'s votes at `height` are refused (it signed conflicting certificates below).
    public func refuses(voter key: PublicKey, at height: UInt64) -> Bool {
        equivocators[key].map { height > $0 } ?? false
    }

    /// Evidence, when `header` and a Quant this node stores or gave up at its height break the
    /// engine's rules together (under proof of authority: one authority sealed both).
    nonisolated func equivocation(with header: QuantHeader) async throws(StorageError) -> Equivocation? {
        guard header.chain == id else { return nil }
        var known = await abandonedHeaders(at: header.height)
        if let stored = try await store.header(chain: id, height: header.height) { known.append(stored.header) }
        for other in known where other.hash != header.hash {
            if let evidence = engine.equivocation(other, header) { return evidence }
        }
        return nil
    }
}
