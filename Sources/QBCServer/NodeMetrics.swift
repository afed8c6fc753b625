import Prometheus
import QBCCore
import QBCNode
import Synchronization

/// The node's Prometheus metrics, created once with bounded labels (rule codes, chain names).
final class NodeMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let admitted: Counter
    let rejected: [RuleError.Code: Counter]
    let rejectedMalformed: Counter
    private let directory: ChainDirectory
    /// Leaps per chain already added to `qbc_leaps_total`, so each scrape adds only the new ones.
    private let leapsCounted = Mutex<[ChainID: Int]>([:])

    init(chains directory: ChainDirectory) {
        self.directory = directory
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        let name = Self.name
        admitted = registry.makeCounter(descriptor: name("transactions_admitted", "total", "Transactions admitted to a mempool"))
        let refused = name("transactions_rejected", "total", "Transactions refused, by reason")
        var rejected = [RuleError.Code: Counter]()
        for code in RuleError.Code.allCases {
            rejected[code] = registry.makeCounter(descriptor: refused, labels: [("reason", code.rawValue)])
        }
        self.rejected = rejected
        rejectedMalformed = registry.makeCounter(descriptor: refused, labels: [("reason", "malformed")])
    }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "qbc", metricName: metric, unitName: unit, helpText: help)
    }

    func rejected(_ code: RuleError.Code) { rejected[code]?.increment() }

    /// Prometheus text format, with chain gauges refreshed at scrape time.
    func scrape() async -> [UInt8] {
        // Chains are added while the node runs; the registry returns the same gauge for the same labels.
        let height = Self.name("chain_height", "", "Height of the chain's tip")
        let committed = Self.name("chain_transactions", "", "Committed transactions")
        let waiting = Self.name("mempool_transactions", "", "Transactions waiting")
        let equivocators = Self.name("chain_equivocators", "", "Authorities refused for evidence against them (two seals on one parent, or conflicting BFT certificates)")
        let conflicts = Self.name("chain_finality_conflicts", "", "BFT: evidence of two certified Quants at one height")
        let leaps = Self.name("leaps", "total", "Quants this node sealed in Leaps, automatic or asked for")
        for chain in directory.all {
            let stats = await chain.stats()
            let labels = [("chain", chain.rules.name)]
            registry.makeGauge(descriptor: height, labels: labels).set(Int64(stats.height))
            registry.makeGauge(descriptor: committed, labels: labels).set(stats.transactionCount)
            registry.makeGauge(descriptor: waiting, labels: labels).set(Int64(stats.mempoolSize))
            registry.makeGauge(descriptor: equivocators, labels: labels).set(Int64(stats.equivocators.count))
            registry.makeGauge(descriptor: conflicts, labels: labels).set(Int64(stats.finalityConflicts))
            // Every Leap, automatic or asked for over HTTP (the counter once counted only the latter).
            let new = leapsCounted.withLock { counted -> Int in
                defer { counted[chain.id] = max(counted[chain.id] ?? 0, stats.leaps) }
                return max(0, stats.leaps - (counted[chain.id] ?? 0))
            }
            let counter = registry.makeCounter(descriptor: leaps, labels: labels)
            if new > 0 { counter.increment(by: Int64(new)) }
        }
        registry.makeGauge(descriptor: Self.name("request_body", "bytes", "Bytes of request bodies held now, of the node's body budget"))
            .set(Int64(BodyBudget.shared.inUse))
        return registry.emitToBuffer()
    }
}
