import Dispatch
import QBCCore
import Synchronization

/// One proof-of-work search on all cores; `stop()` ends it within 4096 hashes per worker.
final class MiningJob: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let found = Mutex<QuantHeader?>(nil)

    func stop() { stopped.store(true, ordering: .relaxed) }
    var isStopped: Bool { stopped.load(ordering: .relaxed) }

    /// Searches nonces on `workers` threads (worker w tries w, w + workers, …) off the Swift
    /// concurrency pool. Returns the first header found, or nil when stopped first.
    func mine(_ header: QuantHeader, workers: Int) async -> QuantHeader? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    let result = ProofOfWork.mine(
                        header, start: UInt64(worker), stride: UInt64(workers), shouldStop: { self.isStopped })
                    if let result {
                        self.found.withLock { if $0 == nil { $0 = result } }
                        self.stop()
                    }
                }
                continuation.resume(returning: self.found.withLock { $0 })
            }
        }
    }
}
