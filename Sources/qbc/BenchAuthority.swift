import ArgumentParser
import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCWire
import QBCHarness

struct BenchAuthority: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "poa",
        abstract: "Three proof-of-authority nodes under load: committed tx/s on each node and inject-to-commit latency.")

    @Option(name: .long, help: "Transactions to submit.") var transactions: Int = 30_000
    @Option(name: .long, help: "Transactions per POST /inject.") var batch: Int = 500
    @Option(name: .long, help: "Automatic Leap interval of every node, in ms.") var interval: Int = 250
    @Option(name: .long, help: "Target submission rate, transactions per second (0: as fast as admitted).") var rate: Int = 0
    @Flag(name: .long, help: "Post binary batches (application/vnd.qbc.tx-batch) instead of JSON.") var binary = false

    func run() async throws {
        try await Self.measure(
            name: "poa", consensus: ["engine": "poa", "outOfTurnDelayMilliseconds": 1000], nodes: 3, transactions: transactions,
            batch: batch, interval: interval, rate: rate, binary: binary)
    }

    /// Starts `nodes` nodes of a fresh chain under `consensus`, submits pre-signed batches to them
    /// in turn (at `rate` tx/s, or as fast as admitted), and prints each node's committed tx/s and
    /// submit-to-commit latency of sampled transactions, beside raw libsodium verify/s.
    static func measure(
        name: String, consensus: [String: Any], nodes count: Int, transactions: Int, batch: Int, interval: Int, rate: Int, binary: Bool
    ) async throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let rawBefore = RawSodiumBaseline.verifyPerSecond(countPerThread: 20_000, messageBytes: 210, threads: cores)
        var setup = try BenchSetup(difficulty: 0, capacity: 200_000, nodes: count, consensus: consensus, leapIntervalMilliseconds: interval)
        let first = try setup.start(0)
        for index in 1..<count { try setup.start(index, peers: [first.url]) }
        let clients = setup.nodes.map { NodeClient(baseURL: $0.url, timeoutSeconds: 300) }
        for client in clients {
            while try await client.stats().peers < count - 1 { try await Task.sleep(for: .milliseconds(20)) }
        }
        let chain = try ChainID(hex: try await clients[0].stats().chain)
        let batches = Self.presign(count: transactions, batch: batch, chain: chain, writers: setup.writers, binary: binary)
        let pace = rate > 0 ? "at \(rate) tx/s" : "as fast as admitted"
        print("qbc bench \(name): \(transactions) transactions in \(binary ? "binary" : "JSON") batches of \(batch) to the \(count) nodes in turn, \(pace), \(cores) cores")

        let tracker = CommitTracker(nodes: clients.count)
        let start = DispatchTime.now().uptimeNanoseconds
        let poller = Task { await tracker.poll(clients: clients, start: start) }
        for (index, (body, sample)) in batches.enumerated() {
            if rate > 0 {
                let due = UInt64(Double(index * batch) / Double(rate) * 1e9)
                let elapsed = DispatchTime.now().uptimeNanoseconds - start
                if due > elapsed { try await Task.sleep(for: .nanoseconds(Int(due - elapsed))) }
            }
            let sent = DispatchTime.now().uptimeNanoseconds - start
            _ = try await callNode { try await clients[index % clients.count].submitCounting(encodedBatch: body, binary: binary) }
            tracker.submitted(sample, at: sent)
        }
        while true {
            var done = true
            for client in clients where try await client.stats().transactions < Int64(transactions) { done = false }
            if done { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        poller.cancel()
        _ = await poller.value
        await setup.waitUntilIdle()
        // The machine's speed drifts (shared cores): raw is measured before and after, and the mean is the baseline.
        let rawAfter = RawSodiumBaseline.verifyPerSecond(countPerThread: 20_000, messageBytes: 210, threads: cores)
        let raw = (rawBefore + rawAfter) / 2
        print(BenchTable.row("node", "committed tx/s", "p50 ms", "p99 ms"))
        var rates = [Double]()
        for node in 0..<clients.count {
            let (seconds, latencies) = tracker.result(node: node)
            rates.append(Double(transactions) / seconds)
            print(BenchTable.row(
                "node \(node + 1)", BenchTable.format(Double(transactions) / seconds),
                String(format: "%.0f", BenchTable.percentile(latencies, 0.5)), String(format: "%.0f", BenchTable.percentile(latencies, 0.99))))
        }
        let total = rates.reduce(0, +)
        print("raw libsodium Ed25519 verify/s on \(cores) cores (same run): \(BenchTable.format(raw)), the mean of \(BenchTable.format(rawBefore)) before and \(BenchTable.format(rawAfter)) after; every node verifies every transaction once")
        print(String(format: "sum over nodes of committed tx/s: %@, ratio to raw %.3f", BenchTable.format(total), total / raw))
    }

    /// Pre-signed, pre-encoded batches, each with the id of one transaction to time.
    static func presign(count: Int, batch: Int, chain: ChainID, writers: [SigningKey], binary: Bool) -> [([UInt8], TransactionID)] {
        let batches = (count + batch - 1) / batch
        let results = BenchResults<([UInt8], TransactionID)>(count: batches)
        let now = Timestamp.now()
        DispatchQueue.concurrentPerform(iterations: batches) { b in
            let txs = ((b * batch)..<min(count, (b + 1) * batch)).map { i in
                let signer = writers[i % writers.count]
                return Transaction(
                    signing: .init(chain: chain, sender: signer.publicKey, nonce: .random(), timestamp: now,
                                   contentType: "application/json", payload: Array(#"{"i":\#(i)}"#.utf8)),
                    with: signer)
            }
            results.set(b, (binary ? Transaction.encodeBatch(txs) : NodeClient.encodeBatch(txs), txs[0].id))
        }
        return results.values
    }
}

/// Records when sampled transactions were submitted and when each node first showed them committed.
final class CommitTracker: @unchecked Sendable {
    private let lock = NSLock()
    private var sent: [TransactionID: UInt64] = [:]
    private var committed: [[TransactionID: UInt64]]
    private var finished: [UInt64]

    init(nodes: Int) {
        committed = Array(repeating: [:], count: nodes)
        finished = Array(repeating: 0, count: nodes)
    }

    func submitted(_ id: TransactionID, at nanos: UInt64) { lock.withLock { sent[id] = nanos } }

    /// Polls every node for the sampled transactions still waiting there.
    func poll(clients: [NodeClient], start: UInt64) async {
        while !Task.isCancelled {
            for (node, client) in clients.enumerated() {
                let pending = lock.withLock { sent.keys.filter { committed[node][$0] == nil } }
                for id in pending where (try? await client.transaction(id.hex).status) == "committed" {
                    let now = DispatchTime.now().uptimeNanoseconds - start
                    lock.withLock {
                        committed[node][id] = now
                        finished[node] = max(finished[node], now)
                    }
                }
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Seconds until the node's last sampled commit, and each sample's latency in ms.
    func result(node: Int) -> (Double, [Double]) {
        lock.withLock {
            let latencies = committed[node].compactMap { id, at in sent[id].map { Double(at - min(at, $0)) / 1e6 } }
            return (max(1e-9, Double(finished[node]) / 1e9), latencies.sorted())
        }
    }
}

struct BenchBFT: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bft",
        abstract: "Four BFT authorities under load: committed (final) tx/s on each node and submit-to-final latency.")

    @Option(name: .long, help: "Transactions to submit.") var transactions: Int = 30_000
    @Option(name: .long, help: "Transactions per POST /inject.") var batch: Int = 500
    @Option(name: .long, help: "Target submission rate, transactions per second (0: as fast as admitted).") var rate: Int = 0
    @Flag(name: .long, help: "Post binary batches (application/vnd.qbc.tx-batch) instead of JSON.") var binary = false

    func run() async throws {
        try await BenchAuthority.measure(
            name: "bft", consensus: ["engine": "bft", "timeoutMilliseconds": 1000, "timeoutIncrementMilliseconds": 500, "maxTimeoutMilliseconds": 10_000],
            nodes: 4, transactions: transactions, batch: batch, interval: 0, rate: rate, binary: binary)
    }
}
