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
    /// Events held at most, and transactions named by them: a window of 2,048 events of big
    /// Quants held gigabytes (decisions D76).
    static let capacity = 2048
    static let capacityTransactions = 65_536
    private let chain: ChainID
    private let store: any BlockStore
    /// Consecutive events, oldest first.
    private let window = Mutex<[ChainEvent]>([])
    /// Encoded frames of recent events, per filter (nil: the filter leaves nothing to send).
    private struct FrameKey: Hashable {
        let sequence: UInt64
        let filter: EventFilter
    }
    private let frames = Mutex<(table: [FrameKey: ByteBuffer?], bytes: Int)>(([:], 0))
    static let maxFrames = 1024
    static let maxFrameBytes = 32 << 20
    /// The store read of new events in progress, if any.
    private let inflight = Mutex<Task<Void, any Error>?>(nil)

    init(chain: ChainID, store: any BlockStore) {
        self.chain = chain
        self.store = store
    }

    /// Up to `limit` events after `sequence`, naming `maxTransactions` transactions at most (the
    /// first whatever its size), from memory when the window covers them. Streams woken by the
    /// same commit share one store read of the new events.
    func events(after sequence: UInt64, limit: Int, maxTransactions: Int) async throws(StorageError) -> [ChainEvent] {
        let bounds = (limit, maxTransactions)
        if let cached = cachedSlice(after: sequence, bounds) { return cached }
        let tail = window.withLock { $0.last?.sequence }
        if tail == nil || tail == sequence {
            // At the live edge: one read for everyone waiting here.
            let read = inflight.withLock { current -> Task<Void, any Error> in
                if let current { return current }
                let from = tail ?? sequence
                let task = Task { [store, chain] in
                    defer { self.inflight.withLock { $0 = nil } }
                    self.remember(try await store.events(
                        chain: chain, after: from, limit: Self.capacity / 4, maxTransactions: Self.capacityTransactions / 4))
                }
                current = task
                return task
            }
            do { try await read.value } catch let error as StorageError { throw error } catch {
                throw StorageError(.io, "reading events failed: \(error)")
            }
            if let cached = cachedSlice(after: sequence, bounds) { return cached }
            if window.withLock({ $0.last?.sequence ?? 0 }) <= sequence { return [] }
        }
        // Outside the window: a page of its own. Kept only where it extends the window or the
        // window is stale (`remember` never lets an older page push the live edge out).
        let read = try await store.events(chain: chain, after: sequence, limit: limit, maxTransactions: maxTransactions)
        remember(read)
        return read
    }

    private func cachedSlice(after sequence: UInt64, _ bounds: (limit: Int, maxTransactions: Int)) -> [ChainEvent]? {
        window.withLock { Self.slice($0, after: sequence, bounds) }.flatMap { $0.isEmpty ? nil : $0 }
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
        if let known = frames.withLock({ $0.table[key] }) { return known }
        let entries = filter.isEmpty ? event.transactions : event.transactions.filter(filter.matches)
        let made = filter.isEmpty || !entries.isEmpty ? EventStream.frame(of: event, chain: chain, entries: entries) : nil
        let size = made?.readableBytes ?? 0
        frames.withLock { frames in
            // Bounded in count and bytes: past either, the frames of the oldest events go first.
            while !frames.table.isEmpty, frames.table.count >= Self.maxFrames || frames.bytes + size > Self.maxFrameBytes,
                let oldest = frames.table.keys.map(\.sequence).min()
            {
                for (key, frame) in frames.table where key.sequence == oldest {
                    frames.bytes -= frame?.readableBytes ?? 0
                    frames.table.removeValue(forKey: key)
                }
            }
            if let old = frames.table.updateValue(made, forKey: key) { frames.bytes -= old?.readableBytes ?? 0 }
            frames.bytes += size
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
            // The newest events are kept whole; older ones go until the rest names few enough.
            var kept = 0
            var from = events.count
            while from > 0, from == events.count || kept + events[from - 1].transactions.count <= Self.capacityTransactions {
                kept += events[from - 1].transactions.count
                from -= 1
            }
            if from > 0 { events.removeFirst(from) }
        }
    }

    private static func slice(_ events: [ChainEvent], after sequence: UInt64, _ bounds: (limit: Int, maxTransactions: Int)) -> [ChainEvent]? {
        guard let first = events.first, let last = events.last, sequence + 1 >= first.sequence, sequence < last.sequence else { return nil }
        return ChainEvent.page(of: events[Int(sequence + 1 - first.sequence)...].prefix(bounds.limit), maxTransactions: bounds.maxTransactions)
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
