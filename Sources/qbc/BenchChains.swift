import ArgumentParser
import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCWire
import QBCHarness

struct BenchChains: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chains",
        abstract: "Many chains on one node under load together, against one chain in the same run.",
        discussion: """
            Starts a node, creates --chains chains on it (signed Bangs, POST /chains), then runs the same workload \
            twice: all transactions on one chain, then spread evenly over every chain with every chain posted to and \
            sealed at once. Prints end-to-end committed tx/s (first post to last commit) for both, their ratio, and raw \
            libsodium Ed25519 verify/s measured in the same run. Build with -c release.
            """)

    @Option(name: .long, help: "Chains served together.") var chains: Int = 10
    @Option(name: .long, help: "Transactions per run (spread over the chains in the second run).") var transactions: Int = 100_000
    @Option(name: .long, help: "Transactions per POST /inject.") var batch: Int = 1000
    @Option(name: .long, help: "Concurrent connections posting batches, in all.") var connections: Int = 4
    @Option(name: .long, help: "Proof-of-work difficulty of every chain.") var difficulty: UInt8 = 8

    func validate() throws {
        guard (2...64).contains(chains), transactions >= chains * batch, (1...10_000).contains(batch), connections > 0 else {
            throw ValidationError("--chains 2...64, --transactions at least chains × batch, --batch 1...10000, --connections > 0")
        }
    }

    func run() async throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("qbc bench chains: \(chains) chains, \(transactions) transactions per run, batches of \(batch), \(cores) cores")
        let raw = RawSodiumBaseline.verifyPerSecond(countPerThread: 20_000, messageBytes: 210, threads: cores)
        var setup = try BenchSetup(difficulty: difficulty, capacity: transactions)
        try setup.start(0)
        let names = ["bench"] + (1..<chains).map { "bench-\($0)" }
        let ids = try await createChains(names.dropFirst(), setup: setup)
        let firstStats = try await callNode { try await NodeClient(baseURL: setup.url).stats() }
        guard let first = try? ChainID(hex: firstStats.chain) else { throw CLIError("the node reported an invalid chain id") }

        let one = try await load([(names[0], first, transactions)], setup: setup)
        let share = transactions / chains
        let many = try await load(zip(names, [first] + ids).map { ($0, $1, share) }, setup: setup)

        print(BenchTable.row("", "committed tx/s", "transactions", "seconds"))
        print(BenchTable.row("1 chain", BenchTable.format(one.rate), "\(one.committed)", String(format: "%.2f", one.seconds)))
        print(BenchTable.row("\(chains) chains together", BenchTable.format(many.rate), "\(many.committed)", String(format: "%.2f", many.seconds)))
        print("ratio \(chains) chains / 1 chain: \(String(format: "%.3f", many.rate / one.rate))")
        print("raw libsodium Ed25519 verify/s on \(cores) cores (same run): \(BenchTable.format(raw)); 1 chain / raw: \(String(format: "%.3f", one.rate / raw)); \(chains) chains / raw: \(String(format: "%.3f", many.rate / raw))")
    }

    /// Signs a Bang per name with the benchmark's admin key, for the same members as its first chain.
    private func createChains(_ names: ArraySlice<String>, setup: BenchSetup) async throws -> [ChainID] {
        let admin = try KeyFile.open(try Files.read(setup.directory + "/admin.key", limit: 65536), passphrase: nil)
        let client = NodeClient(baseURL: setup.url)
        let base = try await callNode { try await client.bang() }
        var ids = [ChainID]()
        for name in names {
            var rules = base.rules
            rules.name = name
            let bang = Bang(rules: rules, timestamp: .now(), creator: admin)
            _ = try await callNode { try await client.create(bang) }
            ids.append(bang.id)
        }
        return ids
    }

    /// Posts every chain's share at once (connections split between chains), then seals every chain
    /// at once until all are empty. Returns committed transactions, wall seconds and their rate.
    private func load(_ plan: [(name: String, id: ChainID, count: Int)], setup: BenchSetup) async throws
        -> (committed: Int, seconds: Double, rate: Double)
    {
        let work = plan.map { entry in
            (NodeClient(baseURL: setup.url, chain: entry.name, timeoutSeconds: 300),
             BenchNode.presign(count: entry.count, batch: batch, chain: entry.id, writers: setup.writers, payloadBytes: 100))
        }
        let perChain = max(1, connections / plan.count)
        let start = DispatchTime.now().uptimeNanoseconds
        let committed = try await withThrowingTaskGroup(of: Int.self) { group in
            for (client, bodies) in work {
                group.addTask {
                    _ = try await BenchNode.post(bodies, client: client, connections: perChain)
                    return try await BenchNode.leapUntilEmpty(client).0
                }
            }
            return try await group.reduce(0, +)
        }
        let seconds = BenchNode.seconds(since: start)
        return (committed, seconds, Double(committed) / seconds)
    }
}
