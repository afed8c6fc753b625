public import QBCCore

/// The verdict on one submitted transaction.
public enum AdmissionOutcome: Sendable {
    case admitted(TransactionID)
    case rejected(TransactionID?, RuleError)
}

/// Verifies Ed25519 signatures on all cores.
enum ParallelVerifier {
    /// One flag per transaction, in order: true when its signature verifies.
    static func verify(_ transactions: [Transaction], tasks: Int) async -> [Bool] {
        let chunks = max(1, min(tasks, transactions.count / 64))
        guard chunks > 1 else { return transactions.map(\.hasValidSignature) }
        let size = (transactions.count + chunks - 1) / chunks
        return await withTaskGroup(of: (Int, [Bool]).self) { group in
            for start in stride(from: 0, to: transactions.count, by: size) {
                let slice = Array(transactions[start..<min(start + size, transactions.count)])
                group.addTask { (start, slice.map(\.hasValidSignature)) }
            }
            var flags = [Bool](repeating: false, count: transactions.count)
            for await (start, result) in group {
                flags.replaceSubrange(start..<start + result.count, with: result)
            }
            return flags
        }
    }
}
