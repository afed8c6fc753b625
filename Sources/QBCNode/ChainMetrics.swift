import CoreMetrics
import Metrics

/// What a chain records through swift-metrics, labelled with the chain's name. The process's
/// backend decides where it goes (`qbc node` bootstraps Prometheus and serves it at `/metrics`);
/// without one, as in the simulation, swift-metrics drops it.
struct ChainMetrics: Sendable {
    /// Quants this node sealed in Leaps, automatic or asked for.
    private let leaps: Counter
    /// From taking transactions to the committed Quant: sealing, checking and storing.
    private let leapDuration: Timer
    /// Fork switches this node made (its tip moved to another branch).
    private let forkSwitches: Counter

    init(chain name: String) {
        let labels = [("chain", name)]
        leaps = Counter(label: "qbc_leaps_total", dimensions: labels)
        leapDuration = Timer(label: "qbc_leap_duration_seconds", dimensions: labels, preferredDisplayUnit: .seconds)
        forkSwitches = Counter(label: "qbc_fork_switches_total", dimensions: labels)
    }
}

extension ChainMetrics {
    func leapCommitted() { leaps.increment() }

    func sealed(in duration: Duration) {
        let (seconds, attoseconds) = duration.components
        leapDuration.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    func switchedFork() { forkSwitches.increment() }
}
