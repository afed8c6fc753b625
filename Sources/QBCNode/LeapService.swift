import Logging
public import QBCCore
import QBCStorage
public import ServiceLifecycle

/// Automatic Leaps: every `interval`, seal the waiting transactions of each chain.
public struct LeapService: Service {
    let chains: [ChainService]
    let interval: Duration
    let clock: @Sendable () -> Timestamp
    let logger: Logger

    public init(chains: [ChainService], interval: Duration, clock: @escaping @Sendable () -> Timestamp, logger: Logger) {
        self.chains = chains
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: interval)
            for chain in chains where await chain.stats().mempoolSize > 0 {
                do {
                    if case .sealed(let stored) = try await chain.leap(now: clock()) {
                        logger.debug("automatic Leap", metadata: ["chain": "\(chain.rules.name)", "height": "\(stored.header.height)"])
                    }
                } catch {
                    logger.error("automatic Leap failed", metadata: ["chain": "\(chain.rules.name)", "error": "\(error)"])
                }
            }
        }
    }
}
