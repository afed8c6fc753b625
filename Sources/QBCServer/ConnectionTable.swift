import NIOCore
import Synchronization

/// Limits on the HTTP connections a node keeps open (documentation/configuration.md).
struct ConnectionLimits: Sendable {
    /// Open connections at most; past it one is closed for each new one (`ConnectionTable.opened`).
    var maximum: Int
    /// How long a connection may wait before sending a request head (a new one, or between
    /// requests on a kept-alive one).
    var headTimeout: TimeAmount
    /// How long a body may pause between two of its parts (a pause holds its share of the
    /// node's body budget for nothing).
    var bodyPause: TimeAmount
    /// How long a request body may take to arrive once its head did.
    var bodyTimeout: TimeAmount = .seconds(60)
    /// How long the client may take to read a response.
    var responseTimeout: TimeAmount = .seconds(120)
    /// Bytes of answers written but not yet taken by the kernel, over all connections, at most
    /// (D85): past it, the connections holding the most are closed.
    var queuedAnswerBytes = 256 << 20
}

/// Every open connection, the address it comes from and whether it is in the middle of a
/// request, so that a flood of connections costs the node only its oldest idle ones, and then
/// the flooding address's own.
final class ConnectionTable: Sendable {
    private struct Entry {
        let channel: any Channel
        let source: String
        var busy: Bool
        var since: NIODeadline
        /// In its graceful end (`GracefulEnd`): its answers are written, so closing it costs nothing.
        var ending = false
        /// Bytes of answers written to it that the kernel has not taken yet.
        var queued = 0
        /// Closed for holding too much of the answer budget (its queued bytes go as its writes fail).
        var shed = false
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        /// Open connections by address (an entry per address holding any).
        var bySource: [String: Int] = [:]
        /// Queued answer bytes over all connections.
        var queued = 0
    }

    private let state = Mutex(State())
    let limits: ConnectionLimits

    init(limits: ConnectionLimits) { self.limits = limits }

    var count: Int { state.withLock { $0.entries.count } }

    /// Queued answer bytes over all connections (the `qbc_answer_queued_bytes` gauge).
    var queuedBytes: Int { state.withLock { $0.queued } }

    /// Registers a new connection. Over the maximum one is closed: one in its graceful end first,
    /// then an idle one before any busy one; among those, one from the address holding the most
    /// connections; among its, the one that has waited or worked longest. Closing the new connection instead let 1,025 slow bodies
    /// lock every client out; closing the oldest busy one whatever its address let a stranger's
    /// flood from one address close the longest event streams of other clients (D78).
    func opened(_ channel: any Channel) {
        let source = ClientAddress.share(of: channel.remoteAddress)
        let victim: (any Channel)? = state.withLock { state in
            let new = ObjectIdentifier(channel)
            state.entries[new] = Entry(channel: channel, source: source, busy: false, since: .now())
            state.bySource[source, default: 0] += 1
            guard state.entries.count > limits.maximum else { return nil }
            var chosen: (key: ObjectIdentifier, rank: (Int, Int, Int, NIODeadline))?
            for (key, entry) in state.entries where key != new {
                // Smaller is closed first: ending, then idle before busy, then the most connections,
                // then the oldest.
                let rank = (entry.ending ? 0 : 1, entry.busy ? 1 : 0, -(state.bySource[entry.source] ?? 0), entry.since)
                if chosen.map({ rank < $0.rank }) ?? true { chosen = (key, rank) }
            }
            return chosen.flatMap { Self.remove($0.key, from: &state)?.channel }
        }
        victim?.close(promise: nil)
    }

    private static func remove(_ key: ObjectIdentifier, from state: inout State) -> Entry? {
        guard let entry = state.entries.removeValue(forKey: key) else { return nil }
        let left = (state.bySource[entry.source] ?? 1) - 1
        state.bySource[entry.source] = left > 0 ? left : nil
        return entry
    }

    func mark(_ channel: any Channel, busy: Bool) {
        state.withLock { state in
            state.entries[ObjectIdentifier(channel)]?.busy = busy
            state.entries[ObjectIdentifier(channel)]?.since = .now()
        }
    }

    /// The connection is in its graceful end.
    func ending(_ channel: any Channel) {
        state.withLock { state in
            state.entries[ObjectIdentifier(channel)]?.ending = true
            state.entries[ObjectIdentifier(channel)]?.busy = false
        }
    }

    func closed(_ channel: any Channel) { _ = state.withLock { Self.remove(ObjectIdentifier(channel), from: &$0) } }

    /// An answer's bytes were written to the connection (`taken` when the kernel has them, or
    /// when the write failed). Past `queuedAnswerBytes` over all connections, the connection
    /// holding the most, of the address holding the most, is closed, and so on until the rest
    /// fit: a stranger's connections that ask for large answers and never read them (300 of them
    /// held 3.6 GB) cost the node at most the budget.
    func queued(_ channel: any Channel, bytes: Int) {
        let victims: [any Channel] = state.withLock { state in
            state.queued += bytes
            state.entries[ObjectIdentifier(channel)]?.queued += bytes
            var victims = [any Channel]()
            var over = state.queued - limits.queuedAnswerBytes
            // Connections closed already give their bytes back as their writes fail: counted as
            // gone, or each call until then would close one more.
            if over > 0 { over -= state.entries.values.reduce(0) { $0 + ($1.shed ? $1.queued : 0) } }
            while over > 0 {
                // The address holding the most first (as for connections, D78), so a stranger's
                // many middling answers are closed before another client's one large answer;
                // within it, the connection holding the most.
                let holding = state.entries.filter { !$0.value.shed && $0.value.queued > 0 }
                var bySource = [String: Int]()
                for entry in holding.values { bySource[entry.source, default: 0] += entry.queued }
                guard let source = bySource.max(by: { $0.value < $1.value })?.key,
                    let (key, entry) = holding.filter({ $0.value.source == source }).max(by: { $0.value.queued < $1.value.queued })
                else { break }
                state.entries[key]?.shed = true
                victims.append(entry.channel)
                over -= entry.queued
            }
            return victims
        }
        for victim in victims { victim.close(promise: nil) }
    }

    func taken(_ channel: any Channel, bytes: Int) {
        state.withLock { state in
            state.queued -= bytes
            state.entries[ObjectIdentifier(channel)]?.queued -= bytes
        }
    }
}
