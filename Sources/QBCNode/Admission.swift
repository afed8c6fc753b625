import Dispatch
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
    /// run on `threads` Dispatch threads, off the Swift concurrency pool, so a node verifying a big
    /// batch still answers `/health` and every other request; smaller ones (and all with 0
    /// threads) run inline.
    static func verify(_ transactions: [Transaction], threads: Int) async -> [Bool] {
        let chunks = min(threads, transactions.count / 64)
        guard chunks > 0 else { return transactions.map(\.hasValidSignature) }
        let size = (transactions.count + chunks - 1) / chunks
        let flags = Mutex([Bool](repeating: false, count: transactions.count))
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global(qos: .userInitiated).async {
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    let range = chunk * size..<min((chunk + 1) * size, transactions.count)
                    let valid = transactions[range].map(\.hasValidSignature)
                    flags.withLock { $0.replaceSubrange(range, with: valid) }
                }
                continuation.resume()
            }
        }
        return flags.withLock { $0 }
    }
}
