import QBCCore
import QBCCrypto
import Synchronization

/// Signed peer requests seen in the last window: an exact replay (same signature, so same sender,
/// time, method, path and body) is refused while it is still fresh enough to pass the time check.
/// Only requests from admitted peers are remembered, so strangers cannot fill it; each peer has
/// its own share, so one peer's flood cannot make every other peer's requests look replayed.
final class ReplayGuard: Sendable {
    enum Verdict { case fresh, replayed, overQuota }

    static let capacity = 200_000
    /// Requests one peer may have remembered at once (30 s of them): 300 a second.
    static let perPeer = 9_000

    private struct State {
        var seen: [Signature: (forgetAt: Timestamp, sender: PublicKey)] = [:]
        var perSender: [PublicKey: Int] = [:]

        mutating func forgetExpired(now: Timestamp) {
            for (signature, entry) in seen where entry.forgetAt <= now {
                seen[signature] = nil
                perSender[entry.sender, default: 1] -= 1
                if perSender[entry.sender] == 0 { perSender[entry.sender] = nil }
            }
        }
    }

    private let state = Mutex(State())

    /// Whether `signature` by `sender` is new; remembered until it would fail the time check.
    func check(_ signature: Signature, by sender: PublicKey, signedAt timestamp: Timestamp, now: Timestamp) -> Verdict {
        let forgetAt = Timestamp(milliseconds: max(timestamp.milliseconds, now.milliseconds) &+ UInt64(PeerRequest.windowMilliseconds))
        return state.withLock { s in
            guard s.seen[signature] == nil else { return .replayed }
            if s.perSender[sender, default: 0] >= Self.perPeer || s.seen.count >= Self.capacity { s.forgetExpired(now: now) }
            guard s.perSender[sender, default: 0] < Self.perPeer, s.seen.count < Self.capacity else { return .overQuota }
            s.seen[signature] = (forgetAt, sender)
            s.perSender[sender, default: 0] += 1
            return .fresh
        }
    }
}
