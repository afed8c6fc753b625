import QBCCore
import QBCCrypto
import QBCNode
import Synchronization

/// The simulation's memory of what happened: a trace (kept short, digested whole), every
/// transaction clients had admitted, every drop with its reason, and every Quant an honest node
/// committed (to find equivocations that every node must detect).
final class Recorder: Sendable {
    struct State {
        var digest = [UInt8](repeating: 0, count: 32)
        var tail: [String] = []
        var lines = 0
        var admitted: [TransactionID: ChainID] = [:]
        var dropped: [TransactionID: DropReason] = [:]
        /// Per node incarnation, chain, height and proposer: the headers it committed. One
        /// incarnation holding two that form evidence saw the equivocation, so it must be caught.
        var seen: [String: [ChainID: [UInt64: [PublicKey: Set<QuantHeader>]]]] = [:]
        var counters: [String: Int] = [:]
        /// Under BFT: the Quant each height was first committed with by any honest node.
        var final: [ChainID: [UInt64: Hash]] = [:]
        var violation: String?
    }

    private let state = Mutex(State())
    let clock: @Sendable () -> UInt64
    /// Lines kept for the report (all are digested).
    let tailLength: Int

    /// Under BFT every commit is final: two honest nodes must never commit different Quants at
    /// one height, nor replace one, at any moment of the run.
    let finalCommits: Bool

    init(clock: @escaping @Sendable () -> UInt64, tailLength: Int = 60, finalCommits: Bool = false) {
        self.clock = clock
        self.tailLength = tailLength
        self.finalCommits = finalCommits
    }

    /// Appends a line to the trace; every line enters the digest.
    func trace(_ line: String) {
        let stamped = "\(clock()) \(line)"
        state.withLock { s in
            s.digest = Hash.blake2b(s.digest + Array(stamped.utf8)).bytes
            s.lines += 1
            s.tail.append(stamped)
            if s.tail.count > tailLength { s.tail.removeFirst(s.tail.count - tailLength) }
        }
    }

    func count(_ name: String, _ n: Int = 1) { state.withLock { $0.counters[name, default: 0] += n } }

    func admitted(_ id: TransactionID, chain: ChainID) { state.withLock { $0.admitted[id] = chain } }

    /// The first violation is the one reported; the run goes on to its end regardless.
    func violated(_ invariant: String) {
        trace("VIOLATION \(invariant)")
        state.withLock { if $0.violation == nil { $0.violation = invariant } }
    }

    var snapshot: State { state.withLock { $0 } }

    /// Hears one node's chains.
    struct Observer: ChainObserver {
        let node: String
        let recorder: Recorder

        func committed(_ quant: Quant, on chain: ChainID) {
            recorder.saw(quant, on: chain, by: node)
            if recorder.finalCommits { recorder.final(quant, on: chain, by: node) }
            recorder.trace("\(node) commit \(quant.header.height) \(quant.hash.hex.prefix(12)) by \(quant.header.proposer.hex.prefix(8)) txs \(quant.transactions.count)")
        }

        func switched(chain: ChainID, ancestor: UInt64, to branch: [Quant], orphaned: [TransactionID]) {
            if recorder.finalCommits { recorder.violated("safety: \(node) replaced final Quants above height \(ancestor)") }
            for quant in branch { recorder.saw(quant, on: chain, by: node) }
            recorder.count("switches")
            recorder.trace("\(node) switch above \(ancestor) to \(branch.last?.hash.hex.prefix(12) ?? "-") orphaned \(orphaned.count)")
        }

        func dropped(_ ids: [TransactionID], on chain: ChainID, reason: DropReason) {
            recorder.state.withLock { s in for id in ids { s.dropped[id] = reason } }
            recorder.trace("\(node) dropped \(ids.count) \(reason.rawValue)")
        }

        func detected(_ evidence: Equivocation) {
            recorder.count("evidence")
            recorder.trace("\(node) evidence \(evidence.proposer.hex.prefix(8)) at \(evidence.height)")
        }
    }

    private func saw(_ quant: Quant, on chain: ChainID, by node: String) {
        state.withLock { s in
            _ = s.seen[node, default: [:]][chain, default: [:]][quant.header.height, default: [:]][quant.header.proposer, default: []].insert(quant.header)
        }
    }

    private func final(_ quant: Quant, on chain: ChainID, by node: String) {
        let earlier: Hash? = state.withLock { s in
            if let held = s.final[chain]?[quant.header.height] { return held }
            s.final[chain, default: [:]][quant.header.height] = quant.hash
            return nil
        }
        if let earlier, earlier != quant.hash {
            violated("safety: \(node) is final on \(quant.hash.hex.prefix(12)) at height \(quant.header.height), another honest node on \(earlier.hex.prefix(12))")
        }
        if quant.certificate == nil { violated("safety: \(node) committed height \(quant.header.height) without a certificate") }
    }

    /// A node that crashed forgets what it saw.
    func forget(_ node: String) { state.withLock { $0.seen[node] = nil } }
}
