import Foundation
import Logging
import Synchronization

/// Notices about requests anyone can send (refused registrations, unsigned or badly signed peer
/// requests): at most one line per kind every `interval`, carrying how many were left out since
/// the last, so a flood of them cannot fill the log.
final class NoticeLimiter: Sendable {
    private let interval: Duration
    private let state = Mutex<[String: (last: ContinuousClock.Instant, suppressed: Int)]>([:])
    /// Kinds are a fixed set of messages written in the code, so the table stays small.
    private let logger: Logger

    init(logger: Logger, interval: Duration = .seconds(10)) {
        self.logger = logger
        self.interval = interval
    }

    func notice(_ message: String, metadata: Logger.Metadata) {
        let now = ContinuousClock.now
        let suppressed = state.withLock { table -> Int? in
            if let entry = table[message], now - entry.last < interval {
                table[message] = (entry.last, entry.suppressed + 1)
                return nil
            }
            defer { table[message] = (now, 0) }
            return table[message]?.suppressed ?? 0
        }
        guard let suppressed else { return }
        var metadata = metadata
        if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
        logger.notice("\(message)", metadata: metadata)
    }
}
