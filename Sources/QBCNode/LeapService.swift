import Logging
import QBCCore
import QBCStorage
public import ServiceLifecycle

/// Automatic Leaps. A chain is sealed when its interval has passed since its last Leap and
/// transactions wait, or as soon as its threshold of transactions wait. Each chain's Bang may
/// set its own policy; otherwise the node's settings apply (interval 0: never by time).
public struct LeapService: Service {
    let chains: ChainDirectory
    let interval: Int
    let threshold: Int?
    let environment: NodeEnvironment

    /// `interval` in milliseconds (0: off unless a chain sets its own).
    public init(chains: ChainDirectory, interval: Int, threshold: Int? = nil, environment: NodeEnvironment) {
        self.chains = chains
        self.interval = interval
        self.threshold = threshold
        self.environment = environment
    }

    /// The policy in force for one chain: (interval in ms, threshold), nil when neither applies.
    private func policy(_ chain: ChainService) -> (interval: UInt64?, threshold: Int?) {
        let own = chain.rules.leap
        let milliseconds = own.intervalMilliseconds > 0 ? Int(own.intervalMilliseconds) : interval
        return (milliseconds > 0 ? UInt64(milliseconds) : nil, own.threshold > 0 ? Int(own.threshold) : threshold)
    }

    /// Often enough for the strictest policy: 20 ms when a threshold applies, else the shortest
    /// interval, and once a second when no chain is sealed automatically (new chains may come).
    private func tick() -> Duration {
        let policies = chains.all.map(policy)
        if policies.contains(where: { $0.threshold != nil }) { return .milliseconds(20) }
        return .milliseconds(min(policies.compactMap(\.interval).min() ?? 1000, 1000))
    }

    public func run() async throws {
        let clock = environment.clock
        // The interval runs from the moment a chain is first seen, then from each chain's last Leap.
        var last = [ChainID: Timestamp]()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do { try await clock.sleep(for: tick()) } catch { return }
            // BFT chains propose by rounds of their own (`BFTDriver`).
            for chain in chains.all where !chain.engine.commitsAreFinal {
                let (interval, threshold) = policy(chain)
                guard interval != nil || threshold != nil else { continue }
                let now = clock.now()
                let since = last[chain.id] ?? now
                if last[chain.id] == nil { last[chain.id] = since }
                // Only what a Leap could take counts: a batch still being persisted is not sealable yet.
                let waiting = await chain.sealable()
                let due = interval.map { now.milliseconds(since: since) >= Int64($0) } ?? false
                guard waiting > 0, due || waiting >= (threshold ?? .max) else { continue }
                last[chain.id] = now
                do {
                    switch try await chain.leap(now: clock.now()) {
                    case .sealed(let stored):
                        environment.logger.debug("automatic Leap", metadata: ["chain": "\(chain.rules.name)", "height": "\(stored.header.height)"])
                    case .busy:
                        let (holder, waiting) = chain.commitGate
                        environment.logger.debug("Leap busy", metadata: [
                            "chain": "\(chain.rules.name)", "holder": "\(holder ?? "none")", "waiting": "\(waiting)"])
                    default:
                        break
                    }
                } catch {
                    environment.logger.error("automatic Leap failed", metadata: ["chain": "\(chain.rules.name)", "error": "\(error)"])
                }
            }
        }
    }
}
