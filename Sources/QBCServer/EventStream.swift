import Foundation
import Hummingbird
import NIOCore
import QBCCore
import QBCCrypto
import QBCNode
import QBCStorage
import QBCWire
import ServiceLifecycle
import Synchronization

/// The Server-Sent Events format (documentation/events.md).
enum EventStreamFormat {
    static let contentType = "text/event-stream"

    /// Whether a GET of this request target asks for an event stream (`/events`, `/chains/{c}/events`),
    /// whose answer never ends: nothing pipelined behind it can be answered (D76).
    static func isStream(_ target: some StringProtocol) -> Bool {
        target.split(separator: "?", maxSplits: 1).first?.hasSuffix("/events") ?? false
    }

    static func frame(id: String?, event: String, data: some Encodable) -> ByteBuffer {
        var text = ""
        if let id { text += "id: \(id)\n" }
        text += "event: \(event)\ndata: "
        text += String(decoding: WireJSON.encode(data), as: UTF8.self)
        text += "\n\n"
        return ByteBuffer(string: text)
    }

    /// A comment line: keeps the connection and proxies awake, ignored by every SSE reader.
    static let heartbeat = ByteBuffer(string: ":\n\n")
}

/// Where a stream stands: every stored event through `sequence` delivered, and the final events
/// derived after it through height `finalThrough` (nil: none of them yet). Written as the SSE id
/// `N` (after event N) or `N:H` (after the final event of height H that follows event N).
struct EventCursor: Equatable {
    var sequence: UInt64
    var finalThrough: UInt64?

    var id: String { finalThrough.map { "\(sequence):\($0)" } ?? "\(sequence)" }

    init(sequence: UInt64, finalThrough: UInt64? = nil) {
        self.sequence = sequence
        self.finalThrough = finalThrough
    }

    /// Parses `N` or `N:H`; nil for anything else.
    init?(_ text: Substring) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.count <= 19 && $0.allSatisfy(\.isASCII) }),
            let sequence = UInt64(parts[0])
        else { return nil }
        self.sequence = sequence
        if parts.count == 2 {
            guard let height = UInt64(parts[1]) else { return nil }
            finalThrough = height
        }
    }
}

/// What a consumer asked to see: transactions by one sender, of one content type, or both.
struct EventFilter: Hashable {
    var sender: PublicKey?
    var contentType: String?

    var isEmpty: Bool { sender == nil && contentType == nil }

    func matches(_ entry: ChainEvent.Entry) -> Bool {
        (sender.map { $0 == entry.sender } ?? true) && (contentType.map { $0 == entry.contentType } ?? true)
    }
}

/// How many event streams are open on the node; each holds a connection and a task.
final class SubscriberCount: Sendable {
    static let maximum = 4096
    private let count = Atomic<Int>(0)

    var current: Int { count.load(ordering: .relaxed) }

    func enter() -> Bool {
        let now = count.wrappingAdd(1, ordering: .relaxed).newValue
        guard now <= Self.maximum else {
            leave()
            return false
        }
        return true
    }

    func leave() { count.wrappingSubtract(1, ordering: .relaxed) }
}

/// One consumer's stream: reads the chain's event log page by page from the store (so a consumer
/// costs the node one page of memory, however far behind it is), derives the final events, and
/// waits for the next change when it has caught up.
struct EventStream {
    let chain: ChainService
    let store: any BlockStore
    /// The chain's latest events, shared by every stream that follows it live.
    let recent: RecentEvents
    /// Quants on top of one before it is called final: 0 under BFT, `api.finalDepth` otherwise.
    let finalDepth: UInt64
    let filter: EventFilter
    /// On a readers-only chain, what opened the stream: checked again before every page, so a
    /// reader removed from the chain stops receiving (an anonymous reader: any change of the key set).
    let access: ReadAccess
    static let pageSize = 256
    /// Transactions a page names at most (its first event whatever its size): a stream's page
    /// of 256 events of big Quants held hundreds of megabytes while its consumer did not read.
    static let pageTransactions = 4096
    /// A consumer that has caught up once and then falls this many events behind is cut off.
    static let maxLiveLag: UInt64 = 4096
    static let heartbeat = Duration.seconds(15)

    /// The cursor for "from now on": after the last event, its final events counted as sent.
    static func now(chain: ChainID, store: any BlockStore, finalDepth: UInt64) async throws(StorageError) -> EventCursor {
        let last = try await store.lastEvent(chain: chain)
        let highest = try await store.connected(chain: chain, height: 0, through: last).highest
        return EventCursor(sequence: last, finalThrough: highest > finalDepth ? highest - finalDepth : 0)
    }

    func run(from start: EventCursor, writer: inout any ResponseBodyWriter) async throws {
        let subscription = chain.changes.subscribe(heartbeat: Self.heartbeat)
        let stopping = Atomic<Bool>(false)
        // A graceful shutdown ends every stream at once, with a cutoff saying where to resume,
        // instead of waiting for consumers that may never close.
        try await withGracefulShutdownHandler {
            try await stream(from: start, subscription: subscription, stopping: stopping, writer: &writer)
        } onGracefulShutdown: {
            stopping.store(true, ordering: .relaxed)
            subscription.wake()
        }
    }

    private func stream(from start: EventCursor, subscription: ChainSignal.Subscription, stopping: borrowing Atomic<Bool>, writer: inout any ResponseBodyWriter)
        async throws
    {
        var iterator = subscription.wakeups.makeAsyncIterator()
        var cursor = start
        // The final events already owed after the starting event.
        let before = cursor.sequence > 0 ? try await store.connected(chain: chain.id, height: 0, through: cursor.sequence - 1).highest : 0
        var highest = try await store.connected(chain: chain.id, height: 0, through: cursor.sequence).highest
        var finalThrough = cursor.finalThrough ?? (before > finalDepth ? before - finalDepth : 0)
        try await writeFinals(after: cursor.sequence, through: highest, declared: &finalThrough, writer: &writer, latest: nil)
        cursor.finalThrough = finalThrough
        var live = false
        while !Task.isCancelled {
            if stopping.load(ordering: .relaxed) {
                try await writer.write(EventStreamFormat.frame(id: nil, event: "cutoff", data: EventCutoffJSON(
                    resume: cursor.id, message: "the node is shutting down; reconnect from the resume cursor")))
                return
            }
            if let lost = access.lost(on: chain) {
                try await writer.write(EventStreamFormat.frame(id: nil, event: "cutoff", data: EventCutoffJSON(resume: cursor.id, message: lost)))
                return
            }
            var page = try await recent.events(after: cursor.sequence, limit: Self.pageSize, maxTransactions: Self.pageTransactions)
            if page.isEmpty {
                // A shared read may have begun just before the change that woke this stream: ask
                // the store itself before sleeping.
                page = try await store.events(chain: chain.id, after: cursor.sequence, limit: Self.pageSize, maxTransactions: Self.pageTransactions)
            }
            guard let last = page.last else {
                live = true
                guard await iterator.next() != nil else { return }
                // A change or the heartbeat: either way the next page says which.
                try await writer.write(EventStreamFormat.heartbeat)
                continue
            }
            for event in page {
                try await write(event, writer: &writer)
                if event.kind == .connected { highest = max(highest, event.height) }
                try await writeFinals(after: event.sequence, through: highest, declared: &finalThrough, writer: &writer, latest: event)
                cursor = EventCursor(sequence: event.sequence, finalThrough: finalThrough)
            }
            let full = page.count == Self.pageSize || page.reduce(0, { $0 + $1.transactions.count }) >= Self.pageTransactions
            if live, full, try await recent.last() - last.sequence > Self.maxLiveLag {
                try await writer.write(EventStreamFormat.frame(id: nil, event: "cutoff", data: EventCutoffJSON(
                    resume: cursor.id, message: "this consumer fell more than \(Self.maxLiveLag) events behind; reconnect from the resume cursor")))
                return
            }
        }
    }

    private func write(_ event: ChainEvent, writer: inout any ResponseBodyWriter) async throws {
        // Streams with the same filters share one encoding of each event: a thousand of them
        // would otherwise encode the same ids a thousand times.
        guard let frame = recent.frame(of: event, filter: filter) else { return }
        try await writer.write(frame)
    }

    /// The SSE frame of a `quant` or `disconnected` event naming `entries`. Written by hand: hex
    /// strings need no escaping, and this runs for every event a stream sends.
    static func frame(of event: ChainEvent, chain: ChainID, entries: [ChainEvent.Entry]) -> ByteBuffer {
        var text = "id: \(event.sequence)\nevent: \(event.kind == .connected ? "quant" : "disconnected")\n"
        text.reserveCapacity(160 + entries.count * 67)
        text += "data: {\"chain\":\"\(chain.hex)\",\"height\":\(event.height),\"hash\":\"\(event.hash.hex)\",\"transactions\":["
        for (index, entry) in entries.enumerated() {
            if index > 0 { text += "," }
            text += "\""
            text += entry.id.hex
            text += "\""
        }
        text += "]}\n\n"
        return ByteBuffer(string: text)
    }

    /// The final events due after event `sequence`: every height up to `highest − finalDepth` not
    /// declared yet, each naming the Quant connected there as of that event.
    private func writeFinals(
        after sequence: UInt64, through highest: UInt64, declared: inout UInt64, writer: inout any ResponseBodyWriter, latest: ChainEvent?
    ) async throws {
        guard highest > finalDepth else { return }
        let due = highest - finalDepth
        while declared < due {
            let height = declared + 1
            let hash: Hash?
            if let latest, latest.kind == .connected, latest.height == height { hash = latest.hash } else {
                hash = try await recent.connectedHash(height: height, through: sequence)
            }
            declared = height
            guard let hash else { continue }
            try await writer.write(EventStreamFormat.frame(
                id: "\(sequence):\(height)", event: "final", data: EventQuantJSON(chain: chain.id.hex, height: height, hash: hash.hex, transactions: nil)))
        }
    }
}
