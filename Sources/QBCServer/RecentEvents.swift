import NIOCore
import QBCCore
import QBCNode
import QBCCrypto
import QBCStorage
import Synchronization

/// The latest events of one chain, kept in memory for the streams that follow it live: after a
/// commit, a thousand consumers read the one new event from here, not a thousand times from
/// SQLite. Filled from the store by whichever stream first asks for an event it lacks; streams
/// that are far behind read their pages from the store as before.
final class RecentEvents: Sendable {
    static let capacity = 2048
    private let chain: ChainID
    private let store: any BlockStore
    /// Consecutive events, oldest first.
    private let window = Mutex<[ChainEvent]>([])
    /// Encoded frames of recent events, per filter (nil: the filter leaves nothing to send).
    private struct FrameKey: Hashable {
        let sequence: UInt64
        let filter: EventFilter
    }
    private let frames = Mutex<[FrameKey: ByteBuffer?]>([:])
    static let maxFrames = 1024
    /// The store read of new events in progress, if any.
    private let inflight = Mutex<Task<Void, any Error>?>(nil)

    init(chain: ChainID, store: any BlockStore) {
        self.chain = chain
        self.store = store
    }

    /// Up to `limit` events after `sequence`, from memory when the window covers them. Streams
    /// woken by the same commit share one store read of the new events.
    func events(after sequence: UInt64, limit: Int) async throws(StorageError) -> [ChainEvent] {
        if let cached = cachedSlice(after: sequence, limit: limit) { return cached }
        let tail = window.withLock { $0.last?.sequence }
        if tail == nil || tail == sequence {
            // At the live edge: one read for everyone waiting here.
            let read = inflight.withLock { current -> Task<Void, any Error> in
                if let current { return current }
                let from = tail ?? sequence
                let task = Task { [store, chain] in
                    defer { self.inflight.withLock { $0 = nil } }
                    self.remember(try await store.events(chain: chain, after: from, limit: Self.capacity / 4))
                }
                current = task
                return task
            }
            do { try await read.value } catch let error as StorageError { throw error } catch {
                throw StorageError(.io, "reading events failed: \(error)")
            }
            if let cached = cachedSlice(after: sequence, limit: limit) { return cached }
            if window.withLock({ $0.last?.sequence ?? 0 }) <= sequence { return [] }
        }
        // Outside the window: a page of its own. Kept only where it extends the window or the
        // window is stale (`remember` never lets an older page push the live edge out).
        let read = try await store.events(chain: chain, after: sequence, limit: limit)
        remember(read)
        return read
    }

    private func cachedSlice(after sequence: UInt64, limit: Int) -> [ChainEvent]? {
        window.withLock { Self.slice($0, after: sequence, limit: limit) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The hash of the Quant connected at `height` by the events through `sequence`, from memory
    /// when the window holds the answer (the latest such event in it, with no gap before `sequence`).
    func connectedHash(height: UInt64, through sequence: UInt64) async throws(StorageError) -> Hash? {
        let cached: Hash?? = window.withLock { events in
            guard let first = events.first, first.sequence <= sequence, let last = events.last, last.sequence >= sequence else { return nil }
            let upTo = events[..<Int(sequence - first.sequence + 1)]
            if let found = upTo.last(where: { $0.kind == .connected && $0.height == height }) { return .some(found.hash) }
            return nil  // connected before the window: ask the store
        }
        if let cached { return cached }
        return try await store.connected(chain: chain, height: height, through: sequence).hash
    }

    /// `event`'s SSE frame for streams with `filter`, encoded once per filter while it is recent;
    /// nil when the filter leaves none of its transactions.
    func frame(of event: ChainEvent, filter: EventFilter) -> ByteBuffer? {
        let key = FrameKey(sequence: event.sequence, filter: filter)
        if let known = frames.withLock({ $0[key] }) { return known }
        let entries = filter.isEmpty ? event.transactions : event.transactions.filter(filter.matches)
        let made = filter.isEmpty || !entries.isEmpty ? EventStream.frame(of: event, chain: chain, entries: entries) : nil
        frames.withLock { frames in
            // Bounded: past the limit, the frames of the oldest event go first.
            if frames.count >= Self.maxFrames, let oldest = frames.keys.map(\.sequence).min() {
                frames = frames.filter { $0.key.sequence != oldest }
            }
            frames[key] = made
        }
        return made
    }

    /// The last event number: a store read (cheap, and never stale).
    func last() async throws(StorageError) -> UInt64 { try await store.lastEvent(chain: chain) }

    private func remember(_ read: [ChainEvent]) {
        guard let first = read.first else { return }
        window.withLock { events in
            if let last = events.last, first.sequence == last.sequence + 1 {
                events += read
            } else if let last = events.last, first.sequence <= last.sequence {
                // Overlapping what is held: keep it, add what is new.
                events += read.filter { $0.sequence > last.sequence }
            } else {
                events = read
            }
            if events.count > Self.capacity { events.removeFirst(events.count - Self.capacity) }
        }
    }

    private static func slice(_ events: [ChainEvent], after sequence: UInt64, limit: Int) -> [ChainEvent]? {
        guard let first = events.first, let last = events.last, sequence + 1 >= first.sequence, sequence < last.sequence else { return nil }
        let start = Int(sequence + 1 - first.sequence)
        return Array(events[start...].prefix(limit))
    }
}

/// One `RecentEvents` per chain served, made on first use (chains are few and live as long as the node).
final class RecentEventsByChain: Sendable {
    private let table = Mutex<[ChainID: RecentEvents]>([:])

    func of(_ chain: ChainService, store: any BlockStore) -> RecentEvents {
        table.withLock { table in
            if let known = table[chain.id] { return known }
            let made = RecentEvents(chain: chain.id, store: store)
            table[chain.id] = made
            return made
        }
    }
}
