import Logging
public import QBCCore
public import QBCCrypto
import QBCStorage

extension NetworkService {
    /// A Quant pushed by an admitted peer: checked in full; an invalid one costs the sender.
    /// One that does not extend the tip makes the node catch up with that peer.
    public func received(_ quant: Quant, from sender: PublicKey) async throws(RuleError) -> ReceiveOutcome {
        guard let chain = directory.chain(quant.header.chain) else {
            throw RuleError(.wrongChain, "this node does not serve chain \(quant.header.chain.hex)")
        }
        let outcome: ReceiveOutcome
        do { outcome = try await chain.receive(quant, now: clock()) } catch {
            logger.error("storing a received Quant failed", metadata: ["error": "\(error)"])
            return .busy
        }
        switch outcome {
        case .rejected(let error):
            let banned = book.penalize(sender, points: 10, now: clock())
            logger.warning("rejected an invalid Quant", metadata: [
                "peer": "\(sender.hex)", "height": "\(quant.header.height)", "rule": "\(error.code.rawValue)",
                "banned": "\(banned)"])
        case .notOnTip:
            if let peer = book.registrations.first(where: { $0.node == sender }) { await catchUp(chain, from: [peer]) }
        case .committed, .busy:
            break
        }
        return outcome
    }

    /// Asks peers for their tips and fetches from the heaviest one that beats this node's chain.
    func catchUp(_ chain: ChainService, from candidates: [Registration]? = nil) async {
        guard !syncing.contains(chain.id) else { return }
        syncing.insert(chain.id)
        defer { syncing.remove(chain.id) }
        let ours = await chain.stats()
        var best: (Registration, PeerTip)?
        for peer in candidates ?? peers(serving: chain.id) {
            do {
                let tip = try await transport.tip(chain: chain.id, of: peer)
                book.succeeded(peer.node)
                let (work, hash) = best.map { ($0.1.cumulativeWork, $0.1.hash) } ?? (ours.cumulativeWork, ours.tipHash)
                if ForkChoice.prefers(candidateWork: tip.cumulativeWork, candidateTip: tip.hash, over: work, currentTip: hash) {
                    best = (peer, tip)
                }
            } catch {
                book.failed(peer.node, now: clock())
            }
        }
        guard let (peer, tip) = best else { return }
        await fetch(chain, from: peer, upTo: tip)
    }

    /// Fetches and applies Quants in pages; every one goes through `receive` (all rules). The next
    /// page is fetched while the current one is checked, so the peer's reading and this node's
    /// verifying overlap.
    private func fetch(_ chain: ChainService, from peer: Registration, upTo tip: PeerTip) async {
        let transport = self.transport
        func page(from height: UInt64) -> Task<[Quant], any Error>? {
            guard height <= tip.height else { return nil }
            return Task { try await transport.quants(chain: chain.id, from: height, limit: 50, of: peer) }
        }
        var pending = page(from: await chain.stats().height + 1)
        defer { pending?.cancel() }
        while let current = pending, !Task.isCancelled {
            let quants: [Quant]
            do { quants = try await current.value } catch {
                book.failed(peer.node, now: clock())
                return
            }
            guard let last = quants.last else { return }
            pending = page(from: last.header.height + 1)
            for quant in quants {
                let outcome: ReceiveOutcome
                do { outcome = try await chain.receive(quant, now: clock()) } catch {
                    logger.error("storing a synced Quant failed", metadata: ["error": "\(error)"])
                    return
                }
                switch outcome {
                case .committed:
                    continue
                case .busy:
                    return
                case .notOnTip:
                    await reorganize(chain, from: peer, upTo: tip)
                    return
                case .rejected(let error):
                    book.penalize(peer.node, points: 10, now: clock())
                    logger.warning("peer served an invalid Quant", metadata: ["peer": "\(peer.node.hex)", "rule": "\(error.code.rawValue)"])
                    return
                }
            }
        }
    }
}

extension NetworkService {
    /// Longest fork this node will switch to in one go, in transactions (bounds memory).
    static let maxBranchTransactions = 200_000

    /// The peer's heavier chain forks from ours: find the last common Quant, fetch the peer's
    /// branch above it and let the chain switch if the branch is valid and heavier.
    func reorganize(_ chain: ChainService, from peer: Registration, upTo tip: PeerTip) async {
        do {
            guard let ancestor = try await commonAncestor(chain, with: peer) else { return }
            var branch = [Quant]()
            var transactions = 0
            var next = ancestor + 1
            while next <= tip.height {
                let page = try await transport.quants(chain: chain.id, from: next, limit: 50, of: peer)
                guard let last = page.last else { break }
                branch += page
                transactions += page.reduce(0) { $0 + $1.transactions.count }
                guard transactions <= Self.maxBranchTransactions else {
                    logger.warning("peer's fork is too long to switch to", metadata: ["peer": "\(peer.node.hex)"])
                    return
                }
                next = last.header.height + 1
            }
            switch try await chain.switchTo(branch, now: clock()) {
            case .switched(let newTip, let orphaned):
                logger.notice("switched to a heavier fork", metadata: [
                    "peer": "\(peer.node.hex)", "ancestor": "\(ancestor)", "height": "\(newTip.header.height)",
                    "orphanedTransactions": "\(orphaned)"])
            case .rejected(let error):
                book.penalize(peer.node, points: 10, now: clock())
                logger.warning("peer offered an invalid fork", metadata: ["peer": "\(peer.node.hex)", "rule": "\(error.code.rawValue)"])
            case .notHeavier, .busy:
                break
            }
        } catch {
            book.failed(peer.node, now: clock())
            logger.debug("fork fetch failed", metadata: ["peer": "\(peer.node.hex)", "error": "\(error)"])
        }
    }

    /// The height of the highest Quant both chains share (0 for the Bang), searching back in
    /// windows that double in size.
    private func commonAncestor(_ chain: ChainService, with peer: Registration) async throws -> UInt64? {
        var high = await chain.stats().height
        var window: UInt64 = 16
        while high > 0 {
            let low = high >= window ? high - window + 1 : 1
            let page = try await transport.quants(chain: chain.id, from: low, limit: Int(high - low + 1), of: peer)
            for quant in page.reversed() where quant.header.height <= high {
                if try chain.reader.header(chain: chain.id, height: quant.header.height)?.hash == quant.hash {
                    return quant.header.height
                }
            }
            high = low - 1
            window = min(window * 2, 1024)
        }
        return 0
    }
}
