import Dispatch
import QBCCore
import QBCCrypto
import Synchronization

/// One sealing of a prepared header by the chain's engine. A search (proof of work) runs on
/// `threads` Dispatch threads off the Swift concurrency pool (worker w of n tries w, w + n, …) and
/// `stop()` ends it within 4096 hashes per worker; with 0 threads it runs inline (the simulator).
final class SealingJob: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let found = Mutex<QuantHeader?>(nil)
    /// The Leap waiting for the search: answered once, as soon as it is stopped (by a find or by a
    /// peer's Quant), not when the search threads next look, so a starved thread never holds up
    /// the commit gate.
    private let waiting = Mutex<CheckedContinuation<QuantHeader?, Never>?>(nil)

    @Sendable func stop() {
        stopped.store(true, ordering: .relaxed)
        answer()
    }
    var isStopped: Bool { stopped.load(ordering: .relaxed) }

    private func answer() {
        guard let continuation = waiting.withLock({ waiting in defer { waiting = nil }; return waiting }) else { return }
        continuation.resume(returning: found.withLock { $0 })
    }

    /// The sealed header, or nil when stopped first.
    func seal(_ header: QuantHeader, engine: any ConsensusEngine, key: SigningKey, threads: Int) async -> QuantHeader? {
        guard threads > 0, engine.sealsBySearch else {
            return engine.seal(header, with: key, worker: 0, of: 1, shouldStop: { self.isStopped })
        }
        return await withCheckedContinuation { continuation in
            waiting.withLock { $0 = continuation }
            if isStopped { answer() }
            DispatchQueue.global(qos: .userInitiated).async {
                DispatchQueue.concurrentPerform(iterations: threads) { worker in
                    if let result = engine.seal(header, with: key, worker: worker, of: threads, shouldStop: { self.isStopped }) {
                        self.found.withLock { if $0 == nil { $0 = result } }
                        self.stop()
                    }
                }
                self.answer()
            }
        }
    }
}
