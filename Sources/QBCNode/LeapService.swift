import Logging
public import QBCCore
import QBCStorage
public import ServiceLifecycle

/// Automatic Leaps. A chain is sealed when `interval` has passed since its last Leap and
/// transactions wait, or as soon as `threshold` transactions wait (when set).
public struct LeapService: Service {
    let chains: [ChainService]
    let interval: Duration
    let threshold: Int?
    let clock: @Sendable () -> Timestamp
    let logger: Logger

    public init(
        chains: [ChainService], interval: Duration, threshold: Int? = nil, clock: @escaping @Sendable () -> Timestamp,
        logger: Logger
    ) {
        self.chains = chains
        self.interval = interval
        self.threshold = threshold
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        // Check often enough for the threshold; the interval alone needs no finer tick.
        let tick = threshold == nil ? interval : min(interval, .milliseconds(20))
        let continuous = ContinuousClock()
        // The interval runs from the start, then from each chain's last Leap.
        let started = continuous.now
        var last = Dictionary(uniqueKeysWithValues: chains.map { ($0.id, started) })
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: tick)
            for chain in chains {
                let waiting = await chain.stats().mempoolSize
                let due = continuous.now - (last[chain.id] ?? started) >= interval
                guard waiting > 0, due || waiting >= (threshold ?? .max) else { continue }
                last[chain.id] = continuous.now
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
