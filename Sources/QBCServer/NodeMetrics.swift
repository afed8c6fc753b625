import Prometheus
import QBCCore
import QBCNode

/// The node's Prometheus metrics, created once with bounded labels (rule codes, chain names).
final class NodeMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let admitted: Counter
    let rejected: [RuleError.Code: Counter]
    let rejectedMalformed: Counter
    let leaps: Counter
    private let chains: [(ChainService, height: Gauge, transactions: Gauge, mempool: Gauge)]

    init(chains: [ChainService]) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "qbc", metricName: metric, unitName: unit, helpText: help)
        }
        admitted = registry.makeCounter(descriptor: name("transactions_admitted", "total", "Transactions admitted to a mempool"))
        let refused = name("transactions_rejected", "total", "Transactions refused, by reason")
        var rejected = [RuleError.Code: Counter]()
        for code in RuleError.Code.allCases {
            rejected[code] = registry.makeCounter(descriptor: refused, labels: [("reason", code.rawValue)])
        }
        self.rejected = rejected
        rejectedMalformed = registry.makeCounter(descriptor: refused, labels: [("reason", "malformed")])
        leaps = registry.makeCounter(descriptor: name("leaps", "total", "Quants sealed by this node"))
        let height = name("chain_height", "", "Height of the chain's tip")
        let committed = name("chain_transactions", "", "Committed transactions")
        let waiting = name("mempool_transactions", "", "Transactions waiting")
        self.chains = chains.map { chain in
            let labels = [("chain", chain.rules.name)]
            return (chain,
                    registry.makeGauge(descriptor: height, labels: labels),
                    registry.makeGauge(descriptor: committed, labels: labels),
                    registry.makeGauge(descriptor: waiting, labels: labels))
        }
    }

    func rejected(_ code: RuleError.Code) { rejected[code]?.increment() }

    /// Prometheus text format, with chain gauges refreshed at scrape time.
    func scrape() async -> [UInt8] {
        for (chain, height, transactions, mempool) in chains {
            let stats = await chain.stats()
            height.set(Int64(stats.height))
            transactions.set(stats.transactionCount)
            mempool.set(Int64(stats.mempoolSize))
        }
        return registry.emitToBuffer()
    }
}
