public import QBCCore
public import QBCCrypto

/// The peers this node has admitted, with their health and conduct, and the keys it has banned.
/// Bounded; pure state.
public struct PeerBook: Sendable {
    public struct Peer: Sendable {
        public var registration: Registration
        var failures = 0
        var retryAfter: Timestamp?
        var score = 0
        /// When it last answered a call from this node.
        public var lastAnswered: Timestamp?
    }

    public static let capacity = 256
    /// Misbehaviour points at which a peer is banned, and for how long.
    public static let banScore = 30
    public static let banMilliseconds: UInt64 = 10 * 60_000

    private(set) var peers: [PublicKey: Peer] = [:]
    /// Keys refused until a time, whether or not they are in the book (bans outlive restarts and
    /// re-registration). Bounded: only admitted peers earn bans, and expired ones are dropped.
    private(set) var bans: [PublicKey: Timestamp] = [:]

    public init(bans: [PublicKey: Timestamp] = [:]) { self.bans = bans }

    /// Stores a verified registration, keeping the newest per key. False when the book is full.
    @discardableResult
    public mutating func admit(_ registration: Registration) -> Bool {
        if var known = peers[registration.node] {
            if registration.timestamp >= known.registration.timestamp { known.registration = registration }
            peers[registration.node] = known
            return true
        }
        guard peers.count < Self.capacity else { return false }
        peers[registration.node] = Peer(registration: registration)
        return true
    }

    public func isBanned(_ key: PublicKey, now: Timestamp) -> Bool { bans[key].map { now < $0 } ?? false }

    public func isAdmitted(_ key: PublicKey, now: Timestamp) -> Bool { peers[key] != nil && !isBanned(key, now: now) }

    /// Peers worth contacting now: not banned and not backing off.
    public func reachable(now: Timestamp) -> [Registration] {
        peers.values.filter { peer in
            !isBanned(peer.registration.node, now: now) && (peer.retryAfter.map { now >= $0 } ?? true)
        }.map(\.registration).sorted { $0.node.bytes.lexicographicallyPrecedes($1.node.bytes) }
    }

    public func isReachable(_ key: PublicKey, now: Timestamp) -> Bool {
        guard let peer = peers[key] else { return false }
        return !isBanned(key, now: now) && (peer.retryAfter.map { now >= $0 } ?? true)
    }

    /// How many peers are reachable, backing off after failures, and banned (`qbc_peers`).
    public func states(now: Timestamp) -> (reachable: Int, backingOff: Int, banned: Int) {
        let reachable = peers.keys.filter { isReachable($0, now: now) }.count
        let banned = bans.values.filter { now < $0 }.count
        let backingOff = peers.keys.filter { !isBanned($0, now: now) && !isReachable($0, now: now) }.count
        return (reachable, backingOff, banned)
    }

    public var registrations: [Registration] {
        peers.values.map(\.registration).sorted { $0.node.bytes.lexicographicallyPrecedes($1.node.bytes) }
    }

    /// A failed call: back off 1 s, 2 s, 4 s … up to a minute.
    public mutating func failed(_ key: PublicKey, now: Timestamp) {
        guard var peer = peers[key] else { return }
        peer.failures += 1
        let delay = min(UInt64(60_000), UInt64(1000) << UInt64(min(peer.failures - 1, 6)))
        peer.retryAfter = Timestamp(milliseconds: now.milliseconds + delay)
        peers[key] = peer
    }

    public mutating func succeeded(_ key: PublicKey, now: Timestamp) {
        peers[key]?.failures = 0
        peers[key]?.retryAfter = nil
        peers[key]?.lastAnswered = now
    }

    /// Every peer with its state ("reachable", "backing_off" or "banned"), by key.
    public func statuses(now: Timestamp) -> [(peer: Peer, state: String)] {
        peers.values.sorted { $0.registration.node.bytes.lexicographicallyPrecedes($1.registration.node.bytes) }.map { peer in
            let key = peer.registration.node
            return (peer, isBanned(key, now: now) ? "banned" : isReachable(key, now: now) ? "reachable" : "backing_off")
        }
    }

    /// Records misbehaviour (an invalid Quant); returns the end of the ban when this makes one.
    @discardableResult
    public mutating func penalize(_ key: PublicKey, points: Int, now: Timestamp) -> Timestamp? {
        guard var peer = peers[key] else { return nil }
        peer.score += points
        var until: Timestamp?
        if peer.score >= Self.banScore {
            until = Timestamp(milliseconds: now.milliseconds + Self.banMilliseconds)
            bans[key] = until
            peer.score = 0
        }
        peers[key] = peer
        bans = bans.filter { now < $0.value }
        return until
    }
}
