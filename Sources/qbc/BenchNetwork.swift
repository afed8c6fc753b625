import ArgumentParser
import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCWire
import QBCHarness

struct BenchSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "A fresh node syncs a chain from a peer with full validation; tx/s next to raw libsodium verify/s.")

    @Option(name: .long, help: "Transactions on the chain to sync.") var transactions: Int = 100_000
    @Option(name: .long, help: "Proof-of-work difficulty of the benchmark chain.") var difficulty: UInt8 = 8

    func run() async throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("qbc bench sync: \(transactions) transactions, \(cores) cores")
        let raw = RawSodiumBaseline.verifyPerSecond(countPerThread: 20_000, messageBytes: 210, threads: cores)
        var setup = try BenchSetup(difficulty: difficulty, capacity: 100_000, nodes: 2)
        let source = try setup.start(0)
        let client = NodeClient(baseURL: source.url, timeoutSeconds: 300)
        let chain = try ChainID(hex: try await callNode { try await client.stats() }.chain)
        let bodies = BenchNode.presign(count: transactions, batch: 1000, chain: chain, writers: setup.writers, payloadBytes: 100)
        _ = try await BenchNode.fill(client, bodies: bodies, round: 100_000, batch: 1000, connections: 4)
        let target = try await client.stats()

        let start = DispatchTime.now().uptimeNanoseconds
        let fresh = try setup.start(1, peers: [source.url])
        let follower = NodeClient(baseURL: fresh.url)
        while try await follower.stats().tipHash != target.tipHash { try await Task.sleep(for: .milliseconds(10)) }
        let seconds = BenchNode.seconds(since: start)
        let rate = Double(target.transactions) / seconds
        print(BenchTable.row("", "QBC sync", "raw libsodium", "ratio"))
        print(BenchTable.row("synced tx/s", BenchTable.format(rate), BenchTable.format(raw), String(format: "%.3f", rate / raw)))
        print("synced \(target.transactions) transactions in \(target.height) Quants in \(String(format: "%.2f", seconds)) s (node start included)")
    }
}

struct BenchBroadcast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadcast",
        abstract: "Three nodes on loopback: time from a transaction's admission at node 1 until it waits in every mempool.")

    @Option(name: .long, help: "Transactions to time, one at a time.") var samples: Int = 200

    func run() async throws {
        var setup = try BenchSetup(difficulty: 8, capacity: 10_000, nodes: 3)
        let first = try setup.start(0)
        for index in 1..<3 { try setup.start(index, peers: [first.url]) }
        let clients = setup.nodes.map { NodeClient(baseURL: $0.url) }
        for client in clients {
            while try await client.stats().peers < 2 { try await Task.sleep(for: .milliseconds(20)) }
        }
        let chain = try ChainID(hex: try await clients[0].stats().chain)
        var latencies = [Double]()
        for i in 0..<samples {
            let writer = setup.writers[i % setup.writers.count]
            let tx = Transaction(
                signing: .init(chain: chain, sender: writer.publicKey, nonce: .random(), timestamp: .now(),
                               contentType: "application/json", payload: Array(#"{"i":\#(i)}"#.utf8)),
                with: writer)
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try await callNode { try await clients[0].submit(tx) }
            for client in clients.dropFirst() {
                while (try? await client.transaction(tx.id.hex).status) != "waiting" { try await Task.sleep(for: .microseconds(200)) }
            }
            latencies.append(BenchNode.seconds(since: start) * 1000)
        }
        latencies.sort()
        print("qbc bench broadcast: \(samples) transactions submitted to node 1, time until waiting on nodes 2 and 3")
        print(String(
            format: "p50 %.1f ms, p99 %.1f ms, max %.1f ms (submission round trip included)",
            BenchTable.percentile(latencies, 0.5), BenchTable.percentile(latencies, 0.99), latencies.last ?? 0))
    }
}
