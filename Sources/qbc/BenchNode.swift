import ArgumentParser
import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCWire
import QBCHarness

struct BenchNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "End-to-end node benchmark: pre-signed transactions posted in batches, then Leaps.",
        discussion: """
            Starts its own node (a fresh chain in a temporary folder) unless --node is given; then --key must be a \
            writer of that node's default chain. Prints admitted and committed tx/s next to raw libsodium Ed25519 \
            verify/s on all cores, measured in the same run. Build with -c release.
            """)

    @Option(name: .long, help: "Transactions to submit.") var transactions: Int = 100_000
    @Option(name: .long, help: "Transactions per POST /inject.") var batch: Int = 1000
    @Option(name: .long, help: "Concurrent connections posting batches.") var connections: Int = 4
    @Option(name: .long, help: "Payload bytes per transaction (JSON).") var payloadBytes: Int = 100
    @Option(name: .long, help: "Transactions admitted per round before Leaping them (bounds the mempool).")
    var round: Int = 100_000
    @Option(name: .long, help: "Benchmark an already running node instead of starting one.") var node: String?
    @Option(name: .long, help: "With --node: a writer key file for that node's default chain.") var key: String?
    @Option(name: .long, help: "Proof-of-work difficulty of the benchmark chain.") var difficulty: UInt8 = 8
    @Flag(name: .long, help: "Also stop and restart the node and time it until it serves again.") var restart = false
    @Flag(name: .long, help: "Post binary batches (application/vnd.qbc.tx-batch) instead of JSON.") var binary = false

    func validate() throws {
        guard transactions > 0, batch > 0, batch <= 10_000, connections > 0, round >= batch else {
            throw ValidationError("--transactions, --batch (at most 10000), --connections must be positive; --round at least --batch")
        }
        if node != nil, key == nil { throw ValidationError("--node needs --key, a writer of that node's chain") }
    }

    func run() async throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("qbc bench node: \(transactions) transactions, batches of \(batch), rounds of \(round), \(connections) connections, \(cores) cores")
        let rawBefore = RawSodiumBaseline.verifyPerSecond(countPerThread: 20_000, messageBytes: 110 + payloadBytes, threads: cores)

        var setup: BenchSetup
        if let node, let key {
            setup = try BenchSetup(external: node, keyPath: key)
        } else {
            setup = try BenchSetup(difficulty: difficulty, capacity: round)
            try setup.start(0)
        }
        let client = NodeClient(baseURL: setup.url, timeoutSeconds: 300)
        let stats = try await callNode { try await client.stats() }
        guard let chain = try? ChainID(hex: stats.chain) else { throw CLIError("the node reported an invalid chain id") }

        let signStart = DispatchTime.now().uptimeNanoseconds
        let bodies = Self.presign(
            count: transactions, batch: batch, chain: chain, writers: setup.writers, payloadBytes: payloadBytes, binary: binary)
        let signSeconds = Self.seconds(since: signStart)

        let (admitted, committed, admitSeconds, commitSeconds) = try await Self.fill(
            client, bodies: bodies, round: round, batch: batch, connections: connections, binary: binary)

        await setup.waitUntilIdle()
        // The machine's speed drifts (shared cores): raw is measured before and after, and the mean is the baseline.
        let rawAfter = RawSodiumBaseline.verifyPerSecond(countPerThread: 20_000, messageBytes: 110 + payloadBytes, threads: cores)
        let raw = (rawBefore + rawAfter) / 2
        let admittedRate = Double(admitted) / admitSeconds
        let committedRate = Double(committed) / commitSeconds
        print(BenchTable.row("", "QBC node", "raw libsodium", "ratio"))
        print(BenchTable.row("admitted tx/s", BenchTable.format(admittedRate), BenchTable.format(raw), String(format: "%.3f", admittedRate / raw)))
        print(BenchTable.row("committed tx/s", BenchTable.format(committedRate), "", ""))
        print("admitted \(admitted)/\(transactions) in \(String(format: "%.2f", admitSeconds)) s; committed \(committed) in \(String(format: "%.2f", commitSeconds)) s; pre-signing took \(String(format: "%.2f", signSeconds)) s")
        print("raw libsodium Ed25519 verify/s on \(cores) cores (same run): \(BenchTable.format(raw)), the mean of \(BenchTable.format(rawBefore)) before and \(BenchTable.format(rawAfter)) after")
        if setup.external == nil, let local = setup.nodes.first {
            if let rss = local.residentBytes { print("node RSS: \(rss / (1024 * 1024)) MiB with \(try await client.stats().transactions) transactions stored") }
            if restart { try await setup.timeRestart() }
        }
    }

    /// Signs on all cores and pre-encodes each batch, so the run measures the node, not the client.
    static func presign(count: Int, batch: Int, chain: ChainID, writers: [SigningKey], payloadBytes: Int, binary: Bool = false) -> [[UInt8]] {
        let filler = String(repeating: "x", count: max(0, payloadBytes - 30))
        return presign(count: count, batch: batch, chain: chain, writers: writers, binary: binary) { _, i in
            ("application/json", Array(#"{"i":\#(i),"f":"\#(filler)"}"#.utf8))
        }
    }

    /// The same with any content: `body(sender, index)` gives each transaction's content type and payload.
    static func presign(
        count: Int, batch: Int, chain: ChainID, writers: [SigningKey], binary: Bool,
        body: @Sendable (PublicKey, Int) -> (String, [UInt8])
    ) -> [[UInt8]] {
        let batches = (count + batch - 1) / batch
        let results = BenchResults<[UInt8]>(count: batches)
        let now = Timestamp.now()
        DispatchQueue.concurrentPerform(iterations: batches) { b in
            let txs = ((b * batch)..<min(count, (b + 1) * batch)).map { i in
                let signer = writers[i % writers.count]
                let (contentType, payload) = body(signer.publicKey, i)
                return Transaction(
                    signing: .init(chain: chain, sender: signer.publicKey, nonce: .random(), timestamp: now,
                                   contentType: contentType, payload: payload),
                    with: signer)
            }
            results.set(b, binary ? Transaction.encodeBatch(txs) : NodeClient.encodeBatch(txs))
        }
        return results.values
    }

    /// Rounds: admit up to `round` transactions, then Leap until the mempool is empty.
    /// Returns admitted, committed, and the seconds spent admitting and committing.
    static func fill(_ client: NodeClient, bodies: [[UInt8]], round: Int, batch: Int, connections: Int, binary: Bool = false) async throws
        -> (Int, Int, Double, Double)
    {
        var (admitted, committed, admitSeconds, commitSeconds) = (0, 0, 0.0, 0.0)
        let perRound = max(1, round / batch)
        for start in stride(from: 0, to: bodies.count, by: perRound) {
            let (a, aSeconds) = try await post(
                Array(bodies[start..<min(start + perRound, bodies.count)]), client: client, connections: connections, binary: binary)
            let (c, cSeconds) = try await leapUntilEmpty(client)
            admitted += a
            committed += c
            admitSeconds += aSeconds
            commitSeconds += cSeconds
        }
        return (admitted, committed, admitSeconds, commitSeconds)
    }

    static func post(_ bodies: [[UInt8]], client: NodeClient, connections: Int, binary: Bool = false) async throws -> (Int, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let next = BenchResults<Int>(count: 1)
        let admitted = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    var total = 0
                    while let index = next.claim(limit: bodies.count) {
                        total += try await client.submitCounting(encodedBatch: bodies[index], binary: binary).admitted
                    }
                    return total
                }
            }
            return try await group.reduce(0, +)
        }
        return (admitted, Self.seconds(since: start))
    }

    static func leapUntilEmpty(_ client: NodeClient) async throws -> (Int, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        var committed = 0
        while true {
            let result = try await callNode { try await client.leap() }
            guard let quant = result.quant else { break }
            committed += Int(quant.transactionCount)
        }
        return (committed, Self.seconds(since: start))
    }

    static func seconds(since start: UInt64) -> Double { max(1e-9, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
}

/// A fixed-size, lock-protected result array and work counter for the benchmark's workers.
final class BenchResults<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [T?]
    private var cursor = 0

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: T) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    var values: [T] {
        lock.lock()
        defer { lock.unlock() }
        return slots.compactMap { $0 }
    }

    /// The next unclaimed index below `limit`, or nil when all are taken.
    func claim(limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard cursor < limit else { return nil }
        cursor += 1
        return cursor - 1
    }
}
