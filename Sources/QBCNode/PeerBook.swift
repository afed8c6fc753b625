public import QBCCore
public import QBCCrypto

/// The peers this node has admitted, with their health and conduct. Bounded; pure state.
public struct PeerBook: Sendable {
    public struct Peer: Sendable {
        public var registration: Registration
        var failures = 0
        var retryAfter: Timestamp?
        var score = 0
        var bannedUntil: Timestamp?
    }

    public static let capacity = 256
    /// Misbehaviour points at which a peer is banned, and for how long.
    public static let banScore = 30
    public static let banMilliseconds: UInt64 = 10 * 60_000

    private(set) var peers: [PublicKey: Peer] = [:]
    public init() {}

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

    public func isAdmitted(_ key: PublicKey, now: Timestamp) -> Bool {
        guard let peer = peers[key] else { return false }
        return peer.bannedUntil.map { now >= $0 } ?? true
    }

    /// Peers worth contacting now: not banned and not backing off.
    public func reachable(now: Timestamp) -> [Registration] {
        peers.values.filter { peer in
            (peer.bannedUntil.map { now >= $0 } ?? true) && (peer.retryAfter.map { now >= $0 } ?? true)
        }.map(\.registration).sorted { $0.node.bytes.lexicographicallyPrecedes($1.node.bytes) }
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

    public mutating func succeeded(_ key: PublicKey) {
        peers[key]?.failures = 0
        peers[key]?.retryAfter = nil
    }

    /// Records misbehaviour (an invalid Quant); returns true when the peer is now banned.
    @discardableResult
    public mutating func penalize(_ key: PublicKey, points: Int, now: Timestamp) -> Bool {
        guard var peer = peers[key] else { return false }
        peer.score += points
        if peer.score >= Self.banScore {
            peer.bannedUntil = Timestamp(milliseconds: now.milliseconds + Self.banMilliseconds)
            peer.score = 0
        }
        peers[key] = peer
        return peer.bannedUntil.map { now < $0 } ?? false
    }
}
