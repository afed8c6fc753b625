import ArgumentParser
import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCWire

/// `qbc bench flood`: what strangers' floods cost a node that stays up.
struct BenchFlood: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flood",
        abstract: "/health latency with a full mempool under a submission flood; node memory under concurrent big reads and under pipelining clients that never read.",
        discussion: """
            Part 1 fills a fresh node's mempool (capacity --capacity) with pre-signed transactions, then floods it with \
            more (all refused as mempool_full) and with GET /mempool while timing /health. Part 2 commits --big \
            transactions of 64 KiB and has 4 readers page through GET /chain?limit=1000 at once while sampling the \
            node's RSS. Part 3 has --pipelining clients send pipelined GET /health for --pipelining-seconds without \
            reading an answer while sampling the node's RSS. Raw libsodium verify/s from the same run is printed for reference. Build with -c release.
            """)

    @Option(name: .long, help: "Mempool capacity of the node (filled completely).") var capacity: Int = 200_000
    @Option(name: .long, help: "/health samples taken during the flood.") var samples: Int = 1000
    @Option(name: .long, help: "64 KiB transactions committed for the big reads.") var big: Int = 4000
    @Option(name: .long, help: "Concurrent big readers.") var readers: Int = 4
    @Option(name: .long, help: "Clients pipelining requests without reading (part 3).") var pipelining: Int = 100
    @Option(name: .long, help: "Seconds the pipelining clients send for.") var pipeliningSeconds: Int = 10

    func validate() throws {
        guard capacity >= 1000, samples > 0, big > 0, readers > 0, (1...10_000).contains(pipelining), (1...600).contains(pipeliningSeconds) else {
            throw ValidationError("counts must be positive; --capacity at least 1000, --pipelining at most 10,000, --pipelining-seconds at most 600")
        }
    }

    func run() async throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let raw = RawSodiumBaseline.verifyPerSecond(countPerThread: 20_000, messageBytes: 210, threads: cores)
        print("qbc bench flood: mempool \(capacity), \(samples) /health samples; \(big) transactions of 64 KiB, \(readers) readers; \(cores) cores")
        print("raw libsodium Ed25519 verify/s on \(cores) cores (same run): \(BenchTable.format(raw))")
        try await fullMempool()
        try await bigReads()
        try await pipeliners()
    }

    /// Part 1: /health while the mempool is full and a flood keeps coming.
    private func fullMempool() async throws {
        var setup = try BenchSetup(difficulty: 8, capacity: capacity)
        let node = try setup.start(0)
        let client = NodeClient(baseURL: node.url, timeoutSeconds: 300)
        let chain = try ChainID(hex: try await client.stats().chain)
        let bodies = BenchNode.presign(count: capacity + 100_000, batch: 1000, chain: chain, writers: setup.writers, payloadBytes: 100, binary: true)
        let fill = Array(bodies.prefix(capacity / 1000))
        let flood = Array(bodies.suffix(from: capacity / 1000))
        _ = try await BenchNode.post(fill, client: client, connections: 4, binary: true)
        let waiting = try await client.stats().mempool
        let stop = BenchResults<Bool>(count: 1)
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<3 {
                    group.addTask {
                        var index = worker
                        while stop.values.isEmpty {
                            if worker == 2 {
                                _ = try? await client.mempool(limit: 1000)
                            } else {
                                _ = try? await client.submit(binaryBatch: flood[index % flood.count])
                                index += 2
                            }
                        }
                    }
                }
            }
        }
        var latencies = [Double]()
        let probe = NodeClient(baseURL: node.url, timeoutSeconds: 30)
        for _ in 0..<samples {
            let start = DispatchTime.now().uptimeNanoseconds
            guard await probe.isHealthy() else { continue }
            latencies.append(BenchNode.seconds(since: start) * 1000)
            try await Task.sleep(for: .milliseconds(2))
        }
        stop.set(0, true)
        _ = await load.value
        latencies.sort()
        print(String(format: "full mempool (%d waiting) under a flood: /health p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d samples; node RSS %d MiB",
                     waiting, BenchTable.percentile(latencies, 0.5), BenchTable.percentile(latencies, 0.99), latencies.last ?? 0, latencies.count,
                     (node.residentBytes ?? 0) / (1 << 20)))
        node.stop()
    }

    /// Part 2: RSS while readers page through Quants of 64 KiB transactions at once.
    private func bigReads() async throws {
        var setup = try BenchSetup(difficulty: 8, capacity: 10_000)
        let node = try setup.start(0)
        let client = NodeClient(baseURL: node.url, timeoutSeconds: 300)
        let chain = try ChainID(hex: try await client.stats().chain)
        let payload = [UInt8](repeating: UInt8(ascii: "a"), count: 64 * 1024 - 200)
        let bodies = BenchNode.presign(count: big, batch: 100, chain: chain, writers: setup.writers, binary: true) { _, i in
            ("text/plain", Array("\(i) ".utf8) + payload)
        }
        _ = try await BenchNode.fill(client, bodies: bodies, round: 1000, batch: 100, connections: 2, binary: true)
        let stored = try await client.stats()
        let before = node.residentBytes ?? 0
        let peak = BenchResults<Int>(count: 2)
        let done = BenchResults<Bool>(count: 1)
        let sampler = Task {
            var (highest, own) = (0, 0)
            while done.values.isEmpty {
                highest = max(highest, node.residentBytes ?? 0)
                own = max(own, node.anonymousBytes ?? 0)
                try? await Task.sleep(for: .milliseconds(20))
            }
            peak.set(0, highest)
            peak.set(1, own)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let pages = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<readers {
                group.addTask {
                    var (from, pages): (UInt64?, Int) = (1, 0)
                    while let next = from {
                        from = try await client.page(from: next, limit: 1000).next
                        pages += 1
                    }
                    return pages
                }
            }
            return try await group.reduce(0, +)
        }
        let seconds = BenchNode.seconds(since: start)
        done.set(0, true)
        _ = await sampler.value
        // RSS counts the database pages the readers map (D83): the kernel's page cache, shared and
        // dropped under memory pressure. The node's own memory is its anonymous pages.
        print(String(format: "%d readers paged %d Quants (%d transactions, %.0f MiB) in %d pages in %.1f s: node RSS %d MiB before, peak %d MiB; its own memory (RSS without the mapped database) peak %d MiB",
                     readers, stored.height, stored.transactions, Double(stored.transactions) * 64 / 1024, pages, seconds,
                     before / (1 << 20), (peak.values.first ?? 0) / (1 << 20), (peak.values.dropFirst().first ?? 0) / (1 << 20)))
        node.stop()
    }
}
