import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCWire
import Synchronization

struct BenchEvents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Event streams: delivery delay with many subscribers, and admission with and without them.",
        discussion: """
            Starts its own node, admits and commits transactions (a Leap every --leap-ms) with no subscriber, then \
            again with --subscribers event streams open. Prints admitted tx/s both ways as a ratio, the delay from \
            each Leap's answer to each subscriber's quant event (p50, p99, max), and raw libsodium verify/s from \
            the same run. Build with -c release.
            """)

    @Option(name: .long, help: "Event streams to open.") var subscribers: Int = 1000
    @Option(name: .long, help: "Transactions per phase.") var transactions: Int = 40_000
    @Option(name: .long, help: "Transactions per POST /inject.") var batch: Int = 500
    @Option(name: .long, help: "Milliseconds between Leaps.") var leapMs: Int = 200
    @Flag(name: .long, help: "Each subscriber follows one of the four writers (?sender=) instead of every transaction.")
    var perWriter = false

    func validate() throws {
        guard subscribers > 0, subscribers <= 4000, transactions >= batch, batch > 0, batch <= 10_000, leapMs >= 10 else {
            throw ValidationError("--subscribers 1...4000, --batch 1...10000 and at most --transactions, --leap-ms at least 10")
        }
    }

    func run() async throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("qbc bench events: \(subscribers) subscribers\(perWriter ? " (each following one of 4 writers)" : " (every transaction)"), \(transactions) transactions a phase in batches of \(batch), a Leap every \(leapMs) ms, \(cores) cores")
        let raw = RawSodiumBaseline.verifyPerSecond(countPerThread: 20_000, messageBytes: 210, threads: cores)
        var setup = try BenchSetup(difficulty: 8, capacity: transactions * 2, maxConnections: subscribers + 512)
        try setup.start(0)
        let client = NodeClient(baseURL: setup.url, timeoutSeconds: 300)
        let stats = try await callNode { try await client.stats() }
        guard let chain = try? ChainID(hex: stats.chain) else { throw CLIError("the node reported an invalid chain id") }
        let bodies = BenchNode.presign(count: transactions * 2, batch: batch, chain: chain, writers: setup.writers, payloadBytes: 100)
        let half = bodies.count / 2

        let (alone, _) = try await phase(Array(bodies[..<half]), client: client)

        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(30)))
        configuration.connectionPool = .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: subscribers + 16)
        let http = HTTPClient(eventLoopGroup: loops, configuration: configuration)
        let arrivals = Arrivals()
        let url = setup.url
        let count = subscribers
        let senders = perWriter ? setup.writers.map(\.publicKey.hex) : []
        let streams = Task {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<count {
                    let stream = NodeClient(baseURL: url, http: http).events(sender: senders.isEmpty ? nil : senders[index % senders.count])
                    group.addTask {
                        do {
                            for try await event in stream where event.event == "quant" {
                                // The height only: decoding every id a thousand times would measure this client.
                                if let height = Self.height(in: event.data) { arrivals.record(height: height) }
                            }
                        } catch {}
                    }
                }
            }
        }
        try await waitForStreams(subscribers, url: setup.url)
        let (withStreams, leaps) = try await phase(Array(bodies[half...]), client: client)
        // Let the last events arrive.
        try await Task.sleep(for: .seconds(2))
        streams.cancel()
        try await http.shutdown()
        try await loops.shutdownGracefully()

        let delays = arrivals.delays(after: leaps).sorted()
        let expected = leaps.count * subscribers
        print(BenchTable.row("", "QBC node", "raw libsodium", "ratio"))
        print(BenchTable.row("admitted tx/s, no streams", BenchTable.format(alone), BenchTable.format(raw), String(format: "%.3f", alone / raw)))
        print(BenchTable.row("admitted tx/s, \(subscribers) streams", BenchTable.format(withStreams), BenchTable.format(raw), String(format: "%.3f", withStreams / raw)))
        print(String(format: "admission with streams / without: %.3f", withStreams / alone))
        print(String(
            format: "quant events delivered: %d of %d (%d Leaps x %d subscribers); delay from the Leap's answer p50 %.1f ms, p99 %.1f ms, max %.1f ms",
            delays.count, expected, leaps.count, subscribers,
            BenchTable.percentile(delays, 0.5), BenchTable.percentile(delays, 0.99), delays.last ?? 0))
        print("raw libsodium Ed25519 verify/s on \(cores) cores (same run): \(BenchTable.format(raw))")
        if let rss = setup.nodes.first?.residentBytes { print("node RSS: \(rss / (1024 * 1024)) MiB") }
    }

    /// Posts `bodies` on 4 connections while Leaping every `leapMs`; returns admitted tx/s and
    /// when each sealed height's Leap answered.
    private func phase(_ bodies: [[UInt8]], client: NodeClient) async throws -> (Double, [UInt64: UInt64]) {
        let leaping = Task { () -> [UInt64: UInt64] in
            var answered = [UInt64: UInt64]()
            while !Task.isCancelled {
                if let height = (try? await client.leap())?.quant?.height { answered[height] = DispatchTime.now().uptimeNanoseconds }
                try? await Task.sleep(for: .milliseconds(leapMs))
            }
            return answered
        }
        let (admitted, seconds) = try await BenchNode.post(bodies, client: client, connections: 4)
        // Seal what is left, then stop.
        while try await client.stats().mempool > 0 { try await Task.sleep(for: .milliseconds(leapMs)) }
        leaping.cancel()
        return (Double(admitted) / seconds, await leaping.value)
    }

    static func height(in data: String) -> UInt64? {
        guard let range = data.range(of: "\"height\":") else { return nil }
        return UInt64(data[range.upperBound...].prefix { $0.isNumber })
    }

    private func waitForStreams(_ count: Int, url: String) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let metrics = try await NodeClient(baseURL: url).rawText("/metrics")
            if let line = metrics.split(separator: "\n").first(where: { $0.hasPrefix("qbc_event_streams ") }),
                let open = Double(line.split(separator: " ").last ?? ""), Int(open) >= count
            { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CLIError("the \(count) event streams did not all open within 60 s")
    }
}

/// When each subscriber saw each height, in the benchmark's monotonic clock.
final class Arrivals: Sendable {
    private let seen = Mutex<[(height: UInt64, at: UInt64)]>([])

    func record(height: UInt64) {
        let now = DispatchTime.now().uptimeNanoseconds
        seen.withLock { $0.append((height, now)) }
    }

    /// Milliseconds from each Leap's answer to each arrival of its height (0 when the event came first).
    func delays(after leaps: [UInt64: UInt64]) -> [Double] {
        seen.withLock { seen in
            seen.compactMap { arrival in
                leaps[arrival.height].map { Double(arrival.at > $0 ? arrival.at - $0 : 0) / 1_000_000 }
            }
        }
    }
}
