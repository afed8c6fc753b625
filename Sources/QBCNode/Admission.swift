import Foundation
public import QBCCore
import Synchronization

/// The verdict on one submitted transaction.
public enum AdmissionOutcome: Sendable {
    case admitted(TransactionID)
    case rejected(TransactionID?, RuleError)
}

/// Verifies Ed25519 signatures on all cores.
enum ParallelVerifier {
    /// One flag per transaction, in order: true when its signature verifies. Batches of 64 or more
    /// are checked by up to `threads` jobs on `VerifierPool`'s threads, off the Swift concurrency
    /// pool and below the priority of the threads that serve requests, so a node verifying floods
    /// of batches still answers `/health`, reads and peers at once; smaller batches (and all with
    /// 0 threads) are checked inline. The jobs claim pieces of the batch in turn rather than a half
    /// each: the threads that preempt a verifier (a store, a request) land on one core, and with
    /// halves the other core sat idle until the slowed half was done (a fifth of sync, issue 18).
    static func verify(_ transactions: [Transaction], threads: Int) async -> [Bool] {
        let count = transactions.count
        let workers = min(threads, count / 64)
        guard workers > 0 else { return transactions.map(\.hasValidSignature) }
        let piece = max(32, min(256, count / (workers * 8)))
        let state = Mutex((flags: [Bool](repeating: false, count: count), next: 0, checked: 0))
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            for _ in 0..<workers {
                VerifierPool.shared.run {
                    while true {
                        let start = state.withLock { state in
                            defer { state.next += piece }
                            return state.next
                        }
                        // A job that starts after the last piece was claimed has nothing to do.
                        guard start < count else { return }
                        let range = start..<min(start + piece, count)
                        let valid = transactions[range].map(\.hasValidSignature)
                        // The piece that completes the batch resumes the caller, exactly once.
                        let complete = state.withLock { state in
                            state.flags.replaceSubrange(range, with: valid)
                            state.checked += range.count
                            return state.checked == count
                        }
                        if complete { continuation.resume() }
                    }
                }
            }
        }
        return state.withLock { $0.flags }
    }
}

/// Long-lived threads for signature checks, one per core, each at nice +5: the kernel then gives
/// the request threads the cores first whenever they have work. Dispatch's threads could not be
/// lowered (others use them, and a thread may not raise its priority back).
final class VerifierPool: @unchecked Sendable {
    static let shared = VerifierPool(threads: ProcessInfo.processInfo.activeProcessorCount)

    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []

    private init(threads: Int) {
        for index in 0..<max(1, threads) {
            let thread = Thread { [self] in work() }
            thread.name = "qbc-verify-\(index)"
            thread.start()
        }
    }

    func run(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        // On Linux the nice value is per thread; `who` 0 is the calling thread.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 5)
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
