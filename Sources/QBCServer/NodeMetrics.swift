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
        admitted = registry.makeCounter(name: "qbc_transactions_admitted_total", help: "Transactions admitted to a mempool")
        var rejected = [RuleError.Code: Counter]()
        for code in RuleError.Code.allCases {
            rejected[code] = registry.makeCounter(
                name: "qbc_transactions_rejected_total", labels: [("reason", code.rawValue)], help: "Transactions refused")
        }
        self.rejected = rejected
        rejectedMalformed = registry.makeCounter(
            name: "qbc_transactions_rejected_total", labels: [("reason", "malformed")], help: "Transactions refused")
        leaps = registry.makeCounter(name: "qbc_leaps_total", help: "Quants sealed by this node")
        self.chains = chains.map { chain in
            let labels = [("chain", chain.rules.name)]
            return (chain,
                    registry.makeGauge(name: "qbc_chain_height", labels: labels, help: "Height of the chain's tip"),
                    registry.makeGauge(name: "qbc_chain_transactions", labels: labels, help: "Committed transactions"),
                    registry.makeGauge(name: "qbc_mempool_transactions", labels: labels, help: "Transactions waiting"))
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
