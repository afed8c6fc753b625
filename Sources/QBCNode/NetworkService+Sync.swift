import Logging
public import QBCCore
public import QBCCrypto
import QBCStorage

extension NetworkService {
    /// A Quant pushed by an admitted peer: checked in full; an invalid one costs the sender.
    /// One that does not extend the tip makes the node catch up with that peer, once answered.
    /// Throws `RuleError` for a chain this node does not serve, `StorageError` when storing fails.
    public func received(_ quant: Quant, from sender: PublicKey) async throws -> ReceiveOutcome {
        guard let chain = directory.chain(quant.header.chain) else {
            throw RuleError(.wrongChain, "this node does not serve chain \(quant.header.chain.hex)")
        }
        let outcome: ReceiveOutcome
        do { outcome = try await chain.receive(quant, now: now()) } catch {
            logger.error("storing a received Quant failed", metadata: ["error": "\(error)"])
            throw error
        }
        switch outcome {
        case .rejected(let error):
            // Evidence of an equivocation is a rule broken by the sealer, not necessarily the sender.
            if error.code != .equivocation { await penalize(sender, reason: error.code.rawValue) }
            logger.warning("rejected a Quant", metadata: [
                "peer": "\(sender.hex)", "height": "\(quant.header.height)", "rule": "\(error.code.rawValue)"])
        case .notOnTip:
            // After the answer: a long catch-up inside the request would time the sender out,
            // and it would back off from this node.
            if let peer = book.peers[sender]?.registration { scheduleCatchUp(chain, with: peer) }
        case .committed:
            break
        }
        return outcome
    }

    /// A scheduled catch-up ended; true when another was asked for since (it asks every peer).
    func caughtUp(_ chain: ChainID) -> Bool {
        catchUpsScheduled.remove(chain)
        return catchUpAgain.contains(chain)
    }

    /// Asks peers for their tips (all at once), takes any new evidence they hold, and follows the
    /// one whose chain fork choice prefers over this node's, whatever its height. Asked while a
    /// catch-up of the chain runs, it makes that one ask every peer once more when it ends: the
    /// running one may have asked before the peer or its news was known, and dropping the request
    /// left the node behind until the sync loop's next round. At most `maxRepeats` rounds more
    /// in a row, so pushes that keep coming cannot hold the sync loop on one chain; a request
    /// left after them waits for the next call, which any round asking every peer answers.
    func catchUp(_ chain: ChainService, from candidates: [Registration]? = nil) async {
        guard syncing.insert(chain.id).inserted else {
            catchUpAgain.insert(chain.id)
            return
        }
        defer { syncing.remove(chain.id) }
        var candidates = candidates
        for _ in 0...Self.maxRepeats {
            if candidates == nil { catchUpAgain.remove(chain.id) }
            await catchUpRound(chain, from: candidates)
            guard catchUpAgain.contains(chain.id), !Task.isCancelled else { return }
            candidates = nil
        }
    }

    /// Rounds a catch-up makes again at most when asked while it runs.
    static let maxRepeats = 2

    private func catchUpRound(_ chain: ChainService, from candidates: [Registration]?) async {
        let transport = self.transport
        let tips = await withTaskGroup(of: (Registration, PeerTip?).self) { group in
            for peer in candidates ?? peers(serving: chain.id) {
                group.addTask { (peer, try? await transport.tip(chain: chain.id, of: peer)) }
            }
            var tips = [(Registration, PeerTip?)]()
            for await answer in group { tips.append(answer) }
            // Completion order varies; decide in key order.
            return tips.sorted { $0.0.node.bytes.lexicographicallyPrecedes($1.0.node.bytes) }
        }
        var preferred = [(Registration, PeerTip)]()
        for (peer, tip) in tips {
            guard let tip else {
                backOff(peer.node)
                continue
            }
            book.succeeded(peer.node, now: now())
            for evidence in tip.evidence.prefix(ChainService.maxEvidence) {
                do { try await chain.record(evidence) } catch {
                    logger.error("recording evidence failed", metadata: ["error": "\(error)"])
                }
            }
            preferred.append((peer, tip))
        }
        // Most preferred first. A peer that claims the best chain and then does not deliver it must
        // not starve sync: the next one is tried, up to three in a round.
        preferred.sort { ForkChoice.prefers(candidateWork: $0.1.cumulativeWork, candidateTip: $0.1.hash, over: $1.1.cumulativeWork, currentTip: $1.1.hash) }
        if candidates == nil {
            if let best = preferred.first?.1 {
                peerViews[chain.id] = .best(best)
            } else if bootstrap.isEmpty, book.registrations.isEmpty {
                peerViews[chain.id] = .alone
            } else {
                // Peers to ask and none answered: what they said before may be stale.
                peerViews[chain.id] = nil
            }
        }
        for (peer, tip) in preferred.prefix(3) {
            let current = await chain.peerTip()
            guard ForkChoice.prefers(candidateWork: tip.cumulativeWork, candidateTip: tip.hash, over: current.cumulativeWork, currentTip: current.hash)
            else { return }
            logger.debug("following a preferred peer", metadata: [
                "chain": "\(chain.rules.name)", "peer": "\(peer.node.hex)", "height": "\(tip.height)", "work": "\(tip.cumulativeWork)"])
            do {
                try await follow(chain, peer: peer, tip: tip)
            } catch let error as SyncError {
                // As for a pushed Quant: an equivocation is the sealer's fault, and the peer may
                // only not have heard of it yet. Banning it would cut honest nodes apart.
                if !error.isEquivocation { await penalize(peer.node, reason: error.description) }
                logger.warning("peer served an invalid chain", metadata: ["peer": "\(peer.node.hex)", "error": "\(error)"])
            } catch is PeerMoved {
                // The peer's chain changed while this node read it; another peer may do.
            } catch {
                backOff(peer.node)
                logger.debug("sync failed", metadata: ["peer": "\(peer.node.hex)", "error": "\(error)"])
            }
        }
    }

    /// Brings this node onto the peer's preferred chain: from the last Quant both hold, by
    /// committing the peer's Quants one by one when its chain extends ours, or by a checked fork
    /// switch when it does not.
    private func follow(_ chain: ChainService, peer: Registration, tip: PeerTip) async throws {
        let ours = await chain.peerTip()
        let ancestor = try await commonAncestor(chain, with: peer, below: min(ours.height, tip.height))
        if ancestor == ours.height {
            try await extend(chain, from: peer, upTo: tip)
        } else {
            try await reorganize(chain, from: peer, above: ancestor, upTo: tip)
        }
    }

    /// Fetches and commits Quants above this node's tip in pages; every one goes through
    /// `receive` (all rules). Three stages overlap, a page in each: while page k is checked and
    /// stored, page k+1's signatures are verified on every core and page k+2 is fetched, so
    /// verification, which sync cannot do without, runs the whole time (issue 18). At most three
    /// pages are held.
    private func extend(_ chain: ChainService, from peer: Registration, upTo tip: PeerTip) async throws {
        // One Quant first: nothing overlaps the first fetch, so it should be short.
        var fetched = try await page(chain.id, from: await chain.peerTip().height + 1, limit: 1, upTo: tip.height, of: peer)
        var stored: (quants: [Quant], verified: [Bool])?
        // Child tasks, not unstructured ones: they run where the node runs (the simulator's
        // executor too) and end with this call.
        while !Task.isCancelled {
            let quants = fetched
            async let verifying = verified(quants, of: chain)
            async let following = page(after: quants, chain: chain.id, upTo: tip.height, of: peer)
            if let stored, !(try await receive(stored, on: chain)) { return }
            guard !quants.isEmpty else { return }
            let checked = (quants: quants, verified: try await verifying)
            do { fetched = try await following } catch {
                // What was fetched and verified is still worth committing, unless the node stops.
                if !(error is CancellationError), !Task.isCancelled { _ = try await receive(checked, on: chain) }
                throw error
            }
            stored = checked
        }
    }

    /// Commits a verified page's Quants in order; false when one no longer extends the tip (the
    /// peer's chain or ours moved, and the next round starts over).
    private func receive(_ page: (quants: [Quant], verified: [Bool]), on chain: ChainService) async throws -> Bool {
        for (quant, verified) in zip(page.quants, page.verified) {
            // A verified Quant's root was checked too (`verified` checks it before any signature).
            switch try await chain.receive(quant, now: now(), signaturesVerified: verified, merkleRootChecked: verified) {
            case .committed: continue
            case .notOnTip: return false
            case .rejected(let error): throw SyncError.rejected(error)
            }
        }
        return true
    }

    /// The leading Quants of a page whose count, size limit and Merkle root hold: the only ones
    /// whose signatures sync verifies ahead, and whose roots `receive` then takes as checked.
    static func plausible(_ quants: [Quant], maxTransactions: Int) -> ArraySlice<Quant> {
        quants.prefix { quant in
            Int(quant.header.transactionCount) == quant.transactions.count
                && quant.transactions.count <= maxTransactions
                && Merkle.root(quant.transactions.map(\.id)) == quant.header.merkleRoot
        }
    }

    /// The peer's page that follows `quants` (none after an empty one).
    private nonisolated func page(after quants: [Quant], chain: ChainID, upTo top: UInt64, of peer: Registration) async throws -> [Quant] {
        guard let last = quants.last else { return [] }
        return try await page(chain, from: last.header.height + 1, limit: Self.pageLimit(after: quants), upTo: top, of: peer)
    }

    /// Quants to ask for next: about `pipelineTransactions` transactions, judging by the page
    /// before. The last page's store overlaps nothing, so a page of 20,000 transactions left a core
    /// idle for a quarter of a second at the end of every sync (issue 18); small Quants still come
    /// `pageQuants` at a time.
    static func pageLimit(after quants: [Quant]) -> Int {
        let perQuant = max(1, quants.reduce(0) { $0 + $1.transactions.count } / max(1, quants.count))
        return max(1, min(pageQuants, pipelineTransactions / perQuant))
    }

    /// Per Quant of a page, whether every signature in it verified (checked here, on every core;
    /// a Quant with a bad one is left for `receive` to refuse with its reason). Only the leading
    /// Quants whose count, size limit and Merkle root hold are verified: a peer cannot make this
    /// node spend signature checks on a page that cheap checks refuse. `receive` relies on the
    /// root check for every Quant flagged true and does not compute the root again (D73).
    private nonisolated func verified(_ quants: [Quant], of chain: ChainService) async throws -> [Bool] {
        try Task.checkCancellation()
        let plausible = Self.plausible(quants, maxTransactions: chain.rules.quantLimits.maxTransactions)
        let flags = await ParallelVerifier.verify(plausible.flatMap(\.transactions), threads: environment.verifierThreads)
        var verified = [Bool]()
        var start = 0
        for quant in plausible {
            verified.append(flags[start..<start + quant.transactions.count].allSatisfy { $0 })
            start += quant.transactions.count
        }
        verified += Array(repeating: false, count: quants.count - plausible.count)
        return verified
    }

    /// The peer's page of Quants from `height`, checked to be the ones asked for; none above `top`.
    private nonisolated func page(_ chain: ChainID, from height: UInt64, limit: Int = pageQuants, upTo top: UInt64, of peer: Registration)
        async throws -> [Quant]
    {
        guard height <= top else { return [] }
        let quants: [Quant]
        do { quants = try await transport.quants(chain: chain, from: height, limit: limit, of: peer) } catch let error as PeerAnswerError {
            throw SyncError.badPage(error.description)
        }
        return try Self.checkPage(quants, chain: chain, from: height, limit: limit)
    }

    /// Fetches the peer's branch above `ancestor` and lets the chain switch to it if it is valid
    /// and fork choice prefers it.
    private func reorganize(_ chain: ChainService, from peer: Registration, above ancestor: UInt64, upTo tip: PeerTip) async throws {
        var branch = [Quant]()
        var transactions = 0
        var bytes = 0
        var next = ancestor + 1
        while next <= tip.height {
            let page = try await page(chain.id, from: next, upTo: tip.height, of: peer)
            guard let last = page.last else { throw PeerMoved() }
            branch += page
            transactions += page.reduce(0) { $0 + $1.transactions.count }
            bytes += page.reduce(0) { $0 + 256 + $1.transactions.reduce(0) { $0 + $1.encodedSize } }  // 256 per header: sealed, with room to spare
            // The whole branch is held until it is checked: bound it however the peer builds it.
            guard transactions <= ChainService.maxBranchTransactions, branch.count <= Self.maxBranchQuants, bytes <= Self.maxBranchBytes else {
                logger.warning("peer's fork is too large to switch to in one go", metadata: [
                    "peer": "\(peer.node.hex)", "quants": "\(branch.count)", "transactions": "\(transactions)", "bytes": "\(bytes)"])
                backOff(peer.node)
                return
            }
            next = last.header.height + 1
        }
        switch try await chain.switchTo(branch, now: now()) {
        case .switched(let newTip, let orphaned):
            logger.notice("switched to a preferred fork", metadata: [
                "chain": "\(chain.rules.name)", "peer": "\(peer.node.hex)", "ancestor": "\(ancestor)",
                "height": "\(newTip.header.height)", "orphanedTransactions": "\(orphaned)"])
        case .rejected(let error):
            throw SyncError.rejected(error)
        case .notPreferred:
            break
        }
    }

    /// The height of the highest Quant both chains hold at or below `start` (0 for the Bang),
    /// comparing header hashes in windows that double in size going back.
    private func commonAncestor(_ chain: ChainService, with peer: Registration, below start: UInt64) async throws -> UInt64 {
        var high = start
        var window: UInt64 = 16
        while high > 0 {
            let low = high >= window ? high - window + 1 : 1
            let headers = try await transport.headers(chain: chain.id, from: low, limit: Int(high - low + 1), of: peer)
            guard headers.count <= Int(high - low + 1),
                headers.enumerated().allSatisfy({ $0.element.height == low + UInt64($0.offset) && $0.element.chain == chain.id })
            else { throw SyncError.badPage("the peer's headers from \(low) are not the ones asked for") }
            guard headers.count == Int(high - low + 1) else { throw PeerMoved() }
            let ours = try await chain.reader.headers(chain: chain.id, from: low, limit: headers.count)
            for (theirs, mine) in zip(headers, ours).reversed() where theirs.hash == mine.hash { return theirs.height }
            high = low - 1
            window = min(window * 2, 1024)
        }
        return 0
    }

    /// A page must be the consecutive Quants asked for (it may be empty when the peer's chain
    /// changed meanwhile).
    static func checkPage(_ page: [Quant], chain: ChainID, from height: UInt64, limit: Int = pageQuants) throws -> [Quant] {
        guard page.count <= limit else { throw SyncError.badPage("the peer sent \(page.count) Quants; at most \(limit) were asked for") }
        for (offset, quant) in page.enumerated() {
            guard quant.header.chain == chain else { throw SyncError.badPage("the peer sent a Quant of another chain") }
            guard quant.header.height == height + UInt64(offset) else {
                throw SyncError.badPage("the peer sent height \(quant.header.height) where \(height + UInt64(offset)) belongs")
            }
        }
        return page
    }

    /// Quants per sync page, at most.
    static let pageQuants = 50
    /// Transactions per sync page, roughly (`pageLimit`).
    static let pipelineTransactions = 10_000
    /// Largest fork this node will switch to (it is held whole until checked, however the peer
    /// built it); a peer that serves a bigger one is backed off from. Nodes apart for longer than
    /// that do not reconcile by themselves (documentation/network.md).
    static let maxBranchQuants = 10_000
    static let maxBranchBytes = 256 << 20
}

/// The peer's chain changed while this node read it (it switched forks or rolled back): honest.
struct PeerMoved: Error {}

/// A peer that served something no honest node would.
enum SyncError: Error, CustomStringConvertible {
    case rejected(RuleError)
    case badPage(String)

    var description: String {
        switch self {
        case .rejected(let error): "\(error)"
        case .badPage(let message): message
        }
    }

    var isEquivocation: Bool {
        if case .rejected(let error) = self { return error.code == .equivocation }
        return false
    }
}
