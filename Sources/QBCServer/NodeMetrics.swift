import Metrics
import Prometheus
import QBCCore
import QBCNode

/// The node's metrics: counters recorded as things happen (through swift-metrics), and gauges read
/// from the chains, the network and the process at scrape time. Every label is bounded: chain
/// names of served chains, rule codes, a fixed set of wire codes, peer states.
final class NodeMetrics: Sendable {
    /// Where admitted or refused transactions came from.
    enum Source: String { case client, gossip }

    private let directory: ChainDirectory
    private let network: NetworkService
    private let registry: PrometheusCollectorRegistry
    private let process = ProcessMetrics()
    private let clock: any NodeClock
    private let subscribers: SubscriberCount
    private let connections: ConnectionTable

    init(chains directory: ChainDirectory, network: NetworkService, clock: any NodeClock, subscribers: SubscriberCount, connections: ConnectionTable) {
        self.subscribers = subscribers
        self.connections = connections
        self.directory = directory
        self.network = network
        self.clock = clock
        registry = MetricsBackend.registry
        registry.makeGauge(descriptor: Self.name("build_info", "", "Always 1; the labels say which build runs"),
                           labels: [("version", QBCVersion.current)]).set(Int64(1))
    }

    /// Counts the verdicts on transactions from one source for one chain.
    func count(_ outcomes: [AdmissionOutcome], chain: ChainService, source: Source) {
        var admitted = 0
        var refused = [String: Int]()
        for outcome in outcomes {
            switch outcome {
            case .admitted: admitted += 1
            case .rejected(_, let error): refused[error.code.rawValue, default: 0] += 1
            }
        }
        if admitted > 0 {
            Counter(label: "qbc_transactions_admitted_total", dimensions: [("chain", chain.rules.name), ("source", source.rawValue)])
                .increment(by: admitted)
        }
        for (reason, count) in refused { self.refused(reason, count: count, chain: chain, source: source) }
    }

    /// Counts transactions refused before the rules: `malformed`, `missing_signature`, `too_large`.
    func refused(_ reason: String, count: Int = 1, chain: ChainService, source: Source) {
        Counter(
            label: "qbc_transactions_rejected_total",
            dimensions: [("chain", chain.rules.name), ("source", source.rawValue), ("reason", reason)]
        ).increment(by: count)
    }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "qbc", metricName: metric, unitName: unit, helpText: help)
    }

    /// Prometheus text format, with the gauges refreshed first.
    func scrape() async -> [UInt8] {
        // Chains are added while the node runs; the registry returns the same gauge for the same labels.
        let name = Self.name
        let height = name("chain_height", "", "Height of the chain's tip")
        let committed = name("chain_transactions", "", "Committed transactions")
        let waiting = name("mempool_transactions", "", "Transactions waiting")
        let waitingBytes = name("mempool", "bytes", "Encoded bytes of the transactions waiting")
        let equivocators = name("chain_equivocators", "", "Authorities refused for evidence against them (two seals on one parent, or conflicting BFT certificates)")
        let conflicts = name("chain_finality_conflicts", "", "BFT: evidence of two certified Quants at one height")
        let lag = name("sync_lag", "", "Quants behind the best tip peers reported in the last round of sync; -1 when no peer answered")
        let tipAge = name("chain_tip_age", "seconds", "Seconds since the tip's timestamp")
        let now = Double(clock.now().milliseconds) / 1000
        for chain in directory.all {
            let stats = await chain.stats()
            let labels = [("chain", chain.rules.name)]
            registry.makeGauge(descriptor: height, labels: labels).set(Int64(stats.height))
            registry.makeGauge(descriptor: committed, labels: labels).set(stats.transactionCount)
            registry.makeGauge(descriptor: waiting, labels: labels).set(Int64(stats.mempoolSize))
            registry.makeGauge(descriptor: waitingBytes, labels: labels).set(Int64(stats.mempoolBytes))
            registry.makeGauge(descriptor: equivocators, labels: labels).set(Int64(stats.equivocators.count))
            registry.makeGauge(descriptor: conflicts, labels: labels).set(Int64(stats.finalityConflicts))
            registry.makeGauge(descriptor: tipAge, labels: labels).set(max(0, now - Double(stats.tipTimestamp.milliseconds) / 1000))
            // -1: no peer answered in the last round (while peers exist), so the lag is unknown.
            registry.makeGauge(descriptor: lag, labels: labels).set((await network.syncLag(chain)).map { Int64($0) } ?? -1)
        }
        let peers = await network.peerStates()
        let state = name("peers", "", "Admitted peers by state; banned counts keys refused now")
        registry.makeGauge(descriptor: state, labels: [("state", "reachable")]).set(Int64(peers.reachable))
        registry.makeGauge(descriptor: state, labels: [("state", "backing_off")]).set(Int64(peers.backingOff))
        registry.makeGauge(descriptor: state, labels: [("state", "banned")]).set(Int64(peers.banned))
        registry.makeGauge(descriptor: name("event_streams", "", "Event streams open now (GET /events)")).set(Int64(subscribers.current))
        registry.makeGauge(descriptor: name("request_body", "bytes", "Bytes of request bodies held now, of the node's body budget"))
            .set(Int64(BodyBudget.shared.inUse))
        registry.makeGauge(descriptor: name("answer_queued", "bytes", "Bytes of answers written and not yet taken by the kernel, and of requests waiting behind them, of the node's answer budget"))
            .set(Int64(connections.queuedBytes))
        process.update(registry)
        return registry.emitToBuffer()
    }
}
