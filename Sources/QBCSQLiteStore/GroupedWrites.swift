import Synchronization
import QBCCore
import QBCStorage

/// Admission batches that arrive while another is being written wait, and are then written
/// together in one database transaction (group commit): one fsync instead of four makes them
/// durable (issue 18: the store's writer thread was a fifth of the machine under admission). Each batch gets its own answer; a failed write fails
/// every batch of its group, which then stored nothing.
final class GroupedWrites: Sendable {
    typealias Batch = [Transaction]
    typealias Write = @Sendable ([Batch]) async -> Result<[Set<TransactionID>], StorageError>

    private struct Waiting: Sendable {
        let batch: Batch
        let continuation: CheckedContinuation<Result<Set<TransactionID>, StorageError>, Never>
    }

    private struct State: Sendable {
        var queue: [Waiting] = []
        var writing = false
    }

    private let state = Mutex(State())
    /// A group stops growing at this many transactions, so no one write holds the writer long.
    private let maxTransactions: Int

    init(maxTransactions: Int = 20_000) { self.maxTransactions = maxTransactions }

    /// Waits for `batch` to be written by `write` (with whatever else waits by then).
    func add(_ batch: Batch, write: @escaping Write) async throws(StorageError) -> Set<TransactionID> {
        let result = await withCheckedContinuation { continuation in
            let start = state.withLock { state in
                state.queue.append(Waiting(batch: batch, continuation: continuation))
                defer { state.writing = true }
                return !state.writing
            }
            if start { Task { await self.drain(write) } }
        }
        return try result.get()
    }

    /// Writes groups until none waits; only one drain runs at a time.
    private func drain(_ write: Write) async {
        while true {
            let group = state.withLock { state in
                var taken = [Waiting]()
                var count = 0
                while let next = state.queue.first, taken.isEmpty || count + next.batch.count <= maxTransactions {
                    taken.append(state.queue.removeFirst())
                    count += next.batch.count
                }
                if taken.isEmpty { state.writing = false }
                return taken
            }
            guard !group.isEmpty else { return }
            switch await write(group.map(\.batch)) {
            case .success(let answers):
                for (waiting, answer) in zip(group, answers) { waiting.continuation.resume(returning: .success(answer)) }
            case .failure(let error):
                for waiting in group { waiting.continuation.resume(returning: .failure(error)) }
            }
        }
    }
}
