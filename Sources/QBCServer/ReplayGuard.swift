import QBCCore
import QBCCrypto
import Synchronization

/// Signed peer requests seen in the last window: an exact replay (same signature, so same sender,
/// time, method, path and body) is refused while it is still fresh enough to pass the time check.
/// Only requests from admitted peers are remembered, so strangers cannot fill it; bounded anyway.
final class ReplayGuard: Sendable {
    static let capacity = 200_000
    private let seen = Mutex<[Signature: Timestamp]>([:])

    /// True the first time `signature` is presented; remembered until it would fail the time check.
    func firstUse(_ signature: Signature, signedAt timestamp: Timestamp, now: Timestamp) -> Bool {
        let forgetAt = Timestamp(milliseconds: max(timestamp.milliseconds, now.milliseconds) &+ UInt64(PeerRequest.windowMilliseconds))
        return seen.withLock { table in
            guard table[signature] == nil else { return false }
            if table.count >= Self.capacity { table = table.filter { $0.value > now } }
            guard table.count < Self.capacity else { return false }
            table[signature] = forgetAt
            return true
        }
    }
}
