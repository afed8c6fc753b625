import QBCCrypto
import Synchronization

/// The ids of stored bodies that are not yet in `tx_id`, in memory (storage.md, "Recent ids";
/// decision D72). Every id written to the random-keyed `tx_id` index dirties a page of it
/// wherever it falls, so admitting a batch of 1,000 rewrote most of the index (issue 18). Ids
/// are kept here instead and written `flushAt` at a time or more, sorted, in a database
/// transaction of their own queued after the write that reaches the limit (storage.md). Their
/// bodies are the ones numbered above `tx_index_mark` (body numbers only grow), so an open
/// rebuilds this from those bodies (an id is the hash of the body without its signature; D84).
///
/// A new id is visible at once (its body number is new, so a reader whose snapshot lacks the
/// body finds nothing), and is taken back if the write rolls back; removals and a flush take
/// effect once the write has committed. Readers see the last two generations, so a read whose
/// snapshot predates a flush still finds what the flush moved; a read during which two flushes
/// ended is made again (`SQLiteBlockStore.readByID`).
final class RecentIDs: Sendable {
    typealias Key = HashKey

    private struct State {
        /// Not yet in `tx_id`.
        var current: [Key: Int64] = [:]
        /// Written to `tx_id` by the last flush; kept for reads whose snapshot predates it.
        var previous: [Key: Int64] = [:]
        /// The open write's additions (already in `current`, with what they replaced) and
        /// removals; only the writer changes these.
        var added: [(key: Key, before: Int64?)] = []
        var removed: Set<Key> = []
        var flushStaged = false
        /// The next body number: never one used before in this process, so a reader's map entry
        /// cannot name another transaction's body in an older snapshot.
        var nextNumber: Int64 = 1
        /// Flushes that have taken effect.
        var flushes = 0
        /// Held ids before a flush is tried again after one failed on its own.
        var retryAt = 0
    }

    private let state = Mutex(State())
    /// Ids held before a write moves them to `tx_id`.
    let flushAt: Int

    init(flushAt: Int) { self.flushAt = max(1, flushAt) }

    /// The body number of `id` as a reader sees it: nil when it is not held here (look in `tx_id`).
    func number(of id: [UInt8]) -> Int64? {
        let key = Key(id)
        return state.withLock { $0.current[key] ?? $0.previous[key] }
    }

    /// The body number of `id` as the open write sees it: nil when it is not held here.
    func stagedNumber(of id: [UInt8]) -> Int64? {
        let key = Key(id)
        return state.withLock { state in
            // Removals are rare (a fork switch, an expiry): no hashing for the empty set.
            !state.removed.isEmpty && state.removed.contains(key) ? nil : state.current[key] ?? state.previous[key]
        }
    }

    /// A new body's id, visible to readers at once. (No write removes an id and stores it again;
    /// if one did, readers would miss the old body until the write commits, never see a wrong one.)
    func stage(_ id: [UInt8], _ seq: Int64) {
        let key = Key(id)
        state.withLock { state in
            state.added.append((key, state.current.updateValue(seq, forKey: key)))
            if !state.removed.isEmpty { state.removed.remove(key) }
        }
    }

    func stageRemoval(_ id: [UInt8]) {
        state.withLock { _ = $0.removed.insert(Key(id)) }
    }

    /// Whether the held ids have reached the limit at which they move to `tx_id` (and, after a
    /// flush of their own failed, another quarter of it).
    var flushDue: Bool { state.withLock { $0.current.count >= max(flushAt, $0.retryAt) } }

    /// A flush of their own failed: the next is tried a quarter of a run later, not after every
    /// write (each would sort and write every held id before failing again).
    func flushFailed() {
        state.withLock { $0.retryAt = $0.current.count + max(1, flushAt / 4) }
    }

    /// Whether the flushes after writes have fallen behind (they failed): the open write flushes.
    var flushOverdue: Bool { state.withLock { $0.current.count >= 2 * flushAt } }

    /// What the open write's flush writes, sorted by id (outside the lock readers take); the
    /// flush takes effect with the write.
    func takeForFlush() -> [(key: Key, seq: Int64)] {
        var held = state.withLock { state in
            state.flushStaged = true
            return state.current.compactMap { state.removed.contains($0.key) ? nil : (key: $0.key, seq: $0.value) }
        }
        held.sort { $0.key < $1.key }
        return held
    }

    /// The open write committed: its removals (and its flush) take effect.
    func commitStaged() {
        state.withLock { state in
            for key in state.removed {
                state.current.removeValue(forKey: key)
                state.previous.removeValue(forKey: key)
            }
            if state.flushStaged {
                // The old generation's table is reused: a new one would grow through every size
                // up to `flushAt` again, rehashing all it holds each time (half a percent of a sync).
                swap(&state.previous, &state.current)
                state.current.removeAll(keepingCapacity: true)
                state.flushes += 1
                state.retryAt = 0
            }
            state.added = []
            state.removed = []
            state.flushStaged = false
        }
    }

    /// The open write rolled back: nothing it did happened.
    func discardStaged() {
        state.withLock { state in
            for (key, before) in state.added.reversed() { state.current[key] = before }
            state.added = []
            state.removed = []
            state.flushStaged = false
        }
    }

    /// A number for a new body (SQLite would reuse the largest after its row is deleted).
    func newNumber() -> Int64 {
        state.withLock { state in
            defer { state.nextNumber += 1 }
            return state.nextNumber
        }
    }

    /// The largest body number handed out so far: a flush indexes every body up to it.
    var largestNumber: Int64 { state.withLock { $0.nextNumber - 1 } }

    /// What an open finds: the ids of the bodies above the index mark, and the largest body number
    /// in use or covered by the mark (a number at or below the mark is never handed out again, or
    /// its body would count as indexed).
    func load(_ entries: [(id: [UInt8], seq: Int64)], largestNumber: Int64) {
        state.withLock { state in
            for entry in entries { state.current[Key(entry.id)] = entry.seq }
            state.nextNumber = max(state.nextNumber, largestNumber + 1)
        }
    }

    /// How many flushes have taken effect.
    var flushes: Int { state.withLock { $0.flushes } }
}
