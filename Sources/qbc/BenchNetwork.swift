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
        let rawBefore = RawSodiumBaseline.verifyPerSecond(countPerThread: 20_000, messageBytes: 210, threads: cores)
        var setup = try BenchSetup(difficulty: difficulty, capacity: 100_000, nodes: 2)
        let source = try setup.start(0)
        let client = NodeClient(baseURL: source.url, timeoutSeconds: 300)
        let chain = try ChainID(hex: try await callNode { try await client.stats() }.chain)
        let bodies = BenchNode.presign(count: transactions, batch: 1000, chain: chain, writers: setup.writers, payloadBytes: 100)
        _ = try await BenchNode.fill(client, bodies: bodies, round: 100_000, batch: 1000, connections: 4)
        let target = try await client.stats()

        let start = DispatchTime.now().uptimeNanoseconds
        let fresh = try setup.start(1, peers: [source.url])
        let listening = BenchNode.seconds(since: start)
        let follower = NodeClient(baseURL: fresh.url)
        try await Self.waitForTip(target, of: follower, since: start)
        let seconds = BenchNode.seconds(since: start)
        let rate = Double(target.transactions) / seconds
        await setup.waitUntilIdle()
        // The machine's speed drifts (shared cores): raw is measured before and after, and the mean is the baseline.
        let rawAfter = RawSodiumBaseline.verifyPerSecond(countPerThread: 20_000, messageBytes: 210, threads: cores)
        let raw = (rawBefore + rawAfter) / 2
        print(BenchTable.row("", "QBC sync", "raw libsodium", "ratio"))
        print(BenchTable.row("synced tx/s", BenchTable.format(rate), BenchTable.format(raw), String(format: "%.3f", rate / raw)))
        print("synced \(target.transactions) transactions in \(target.height) Quants in \(String(format: "%.2f", seconds)) s (node start included: listening after \(String(format: "%.2f", listening)) s)")
        print("raw libsodium Ed25519 verify/s on \(cores) cores: the mean of \(BenchTable.format(rawBefore)) before and \(BenchTable.format(rawAfter)) after")
    }
}

extension BenchSync {
    /// Returns once the follower's tip is the target's. Each poll costs the machine about 0.7 ms
    /// of CPU (this client's and the node's), and every 25 ms that was 1.4% of a sync of 100,000
    /// on two cores, while the figure is only as sharp as the interval. So it polls every 100 ms
    /// until the time the sync's progress so far says it will end, and every 5 ms from half of the
    /// time left on.
    static func waitForTip(_ target: StatsJSON, of follower: NodeClient, since start: UInt64) async throws {
        var progress = (transactions: Int64(0), seconds: 0.0)
        while true {
            let stats = try await follower.stats()
            if stats.tipHash == target.tipHash { return }
            let now = BenchNode.seconds(since: start)
            if stats.transactions > progress.transactions { progress = (stats.transactions, now) }
            let expectedEnd = progress.transactions > 0
                ? progress.seconds * Double(target.transactions) / Double(progress.transactions) : 0
            try await Task.sleep(for: .seconds(min(0.1, max(0.005, (expectedEnd - now) / 2))))
        }
    }
}

struct BenchBroadcast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadcast",
        abstract: "Three nodes on loopback: time from a transaction's admission at node 1 until it waits in every mempool.",
        discussion: """
            With --impaired, the same run then registers two more peers with every node, one at a dead address \
            (connections refused) and one that accepts connections and never answers, and measures again: a dead or \
            slow peer must delay nobody (documentation/network.md, "Relaying").
            """)

    @Option(name: .long, help: "Transactions to time, one at a time.") var samples: Int = 200
    @Flag(name: .long, help: "Measure again with a dead and a slow peer registered.") var impaired = false

    func run() async throws {
        var setup = try BenchSetup(difficulty: 8, capacity: 10_000, nodes: 5)
        let first = try setup.start(0)
        for index in 1..<3 { try setup.start(index, peers: [first.url]) }
        let clients = setup.nodes.map { NodeClient(baseURL: $0.url) }
        for client in clients {
            while try await client.stats().peers < 2 { try await Task.sleep(for: .milliseconds(20)) }
        }
        let chain = try ChainID(hex: try await clients[0].stats().chain)
        print("qbc bench broadcast: \(samples) transactions submitted to node 1, time until waiting on nodes 2 and 3")
        let healthy = try await measure(clients, chain: chain, writers: setup.writers)
        // A latency has no libsodium twin; the time of one raw verify from this run gives the scale.
        let rawMicros = 1_000_000 / RawSodiumBaseline.verifyPerSecond(countPerThread: 20_000, messageBytes: 210, threads: 1)
        print(String(format: "raw libsodium Ed25519 verify (same run, 1 core): %.1f µs; healthy p99 = %.0f× that", rawMicros, healthy * 1000 / rawMicros))
        guard impaired else { return }
        let silent = try SilentListener()
        let peers = [("dead", try SilentListener.closedPort()), ("slow", silent.port)]
        for ((name, port), keyPath) in zip(peers, setup.nodeKeys.suffix(2)) {
            let key = try KeyFile.open(try Files.read(keyPath, limit: 64 * 1024), passphrase: nil)
            let registration = Registration(key: key, address: "http://127.0.0.1:\(port)", chains: [chain], timestamp: .now())
            for client in clients { _ = try await callNode { try await client.register(registration) } }
            print("registered a \(name) peer at 127.0.0.1:\(port)")
        }
        let hurt = try await measure(clients, chain: chain, writers: setup.writers)
        print(String(format: "with a dead and a slow peer: p99 %.2f× the healthy run (target ≤ 2)", hurt / max(healthy, 0.001)))
        silent.stop()
    }

    /// Times `samples` transactions from submission at node 1 until waiting at nodes 2 and 3; prints
    /// the figures and returns p99 in milliseconds.
    private func measure(_ clients: [NodeClient], chain: ChainID, writers: [SigningKey]) async throws -> Double {
        var latencies = [Double]()
        for i in 0..<samples {
            let writer = writers[i % writers.count]
            let tx = Transaction(
                signing: .init(chain: chain, sender: writer.publicKey, nonce: .random(), timestamp: .now(),
                               contentType: "application/json", payload: Array(#"{"i":\#(i),"r":\#(UInt32.random(in: 0...UInt32.max))}"#.utf8)),
                with: writer)
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try await callNode { try await clients[0].submit(tx) }
            for client in clients.dropFirst() {
                while (try? await client.transaction(tx.id.hex).status) != "waiting" { try await Task.sleep(for: .microseconds(200)) }
            }
            latencies.append(BenchNode.seconds(since: start) * 1000)
        }
        latencies.sort()
        let p99 = BenchTable.percentile(latencies, 0.99)
        print(String(
            format: "p50 %.1f ms, p99 %.1f ms, max %.1f ms (submission round trip included)",
            BenchTable.percentile(latencies, 0.5), p99, latencies.last ?? 0))
        return p99
    }
}
