import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

/// Real nodes, each in a network namespace of its own, cut apart by a real partition while
/// clients keep writing to every side (`NetworkSandbox`): after it heals they must end on one tip
/// with every transaction any of them admitted committed. The simulator plays partitions by the
/// thousand on a simulated network; these are the same with the kernel's.
@Suite(.serialized) struct KernelPartitionTests {
    @Test(.enabled(if: NetworkSandbox.unavailable == nil, "\(NetworkSandbox.unavailable ?? "")"), arguments: ["pow", "poa"])
    func nodesCutApartUnderLoadEndOnOneChainLosingNothing(_ engine: String) async throws {
        let dir = try TemporaryDirectory()
        let consensus: [String: Any] = engine == "pow" ? ["engine": "pow", "difficultyBits": 8] : ["engine": "poa", "outOfTurnDelayMilliseconds": 500]
        let configs = try (1...3).map { try TestNetwork.config($0, in: dir, engine: consensus) }
        let net = try await SandboxNet.start(in: dir, configs: configs, keys: [nil, nil, nil], extra: ["--leap-interval-ms", "300"])
        defer { net.stop() }
        let load = Load(net)
        try await Task.sleep(for: .seconds(3))
        let before = try #require(await net.all(), "every node answers before the cut")
        try load.apart { try net.sandbox.cut(3) }
        try await Task.sleep(for: .seconds(10))
        let apart = try #require(await net.all(), "every node answers from inside its namespace during the cut")
        #expect(apart[0].tipHash != apart[2].tipHash, "the partition held: two chains")
        #expect(apart[0].height > before[0].height && apart[2].height > before[2].height, "both sides sealed while apart")
        try load.together { try net.sandbox.heal(3) }
        try await Task.sleep(for: .seconds(3))
        let ids = await load.stop()
        let sides = load.admittedApart
        #expect(sides[3, default: 0] > 0 && sides[1, default: 0] + sides[2, default: 0] > 0,
                "clients wrote to both sides of the partition: \(sides) admitted while apart, \(ids.count) in all")
        try await net.expectConverged(losing: ids)
    }

    /// BFT commits are final: a minority cut off stops committing while the rest go on; a split
    /// with no side holding 3 of 4 authorities commits nothing; no final Quant is ever undone, and
    /// once healed all four end on one tip with everything admitted committed.
    @Test(.enabled(if: NetworkSandbox.unavailable == nil, "\(NetworkSandbox.unavailable ?? "")"))
    func bftCommitsOnlyWithAQuorumAcrossPartitions() async throws {
        let setup = try BFTNetworkTests.Setup()
        let net = try await SandboxNet.start(in: setup.dir, configs: setup.configs, keys: setup.keys.map { $0 }, extra: [])
        defer { net.stop() }
        let load = Load(net)
        try await Task.sleep(for: .seconds(3))
        // Node 4 alone: the other three keep committing, it commits nothing.
        let before = try #require(await net.all())
        try load.apart { try net.sandbox.cut(4) }
        try await Task.sleep(for: .seconds(8))
        let minority = try #require(await net.all())
        #expect((0..<3).allSatisfy { (minority[$0].finalHeight ?? 0) > (before[$0].finalHeight ?? 0) }, "the three went on committing")
        #expect((minority[3].finalHeight ?? 0) <= (before[3].finalHeight ?? 0) + 1, "node 4 alone committed nothing new")
        try load.together { try net.sandbox.heal(4) }
        try await eventually("node 4 caught up", within: 60) {
            guard let now = await net.all() else { return false }
            return now[3].height >= minority[0].height
        }
        // Two against one against one: no side holds a quorum.
        try net.sandbox.cut(3)
        try net.sandbox.cut(4)
        try await Task.sleep(for: .seconds(1))
        let split = try #require(await net.all())
        try await Task.sleep(for: .seconds(6))
        let after = try #require(await net.all())
        for index in 0..<4 {
            #expect((after[index].finalHeight ?? 0) == (split[index].finalHeight ?? 0), "node \(index + 1) committed nothing without a quorum")
        }
        try net.sandbox.heal(3)
        try net.sandbox.heal(4)
        try await Task.sleep(for: .seconds(2))
        let ids = await load.stop()
        #expect(load.admittedApart[4, default: 0] > 0, "clients wrote to node 4 while it was cut off: \(load.admittedApart)")
        try await net.expectConverged(losing: ids)
        let conflicts = try #require(await net.all()).map { $0.finalityConflicts ?? 0 }
        #expect(conflicts.allSatisfy { $0 == 0 }, "no final Quant was contradicted: \(conflicts)")
    }
}

/// Nodes of one chain in a `NetworkSandbox`, reached from inside their namespaces.
struct SandboxNet {
    /// Every node listens on this port in its own namespace.
    static let port = 7001
    let sandbox: NetworkSandbox
    let nodes: [LocalNode]
    let chain: ChainID

    /// Starts a node per config (with its key, when given) in a sandbox; the others register
    /// with the first. Returns once every node has every other as its peer.
    static func start(in dir: TemporaryDirectory, configs: [String], keys: [String?], extra: [String]) async throws -> SandboxNet {
        let sandbox = try NetworkSandbox(nodes: configs.count)
        var nodes = [LocalNode]()
        do {
            for (offset, config) in configs.enumerated() {
                let index = offset + 1
                var arguments = ["--config", config, "--host", "0.0.0.0", "--port", "\(port)", "--advertise", "http://\(sandbox.address(index)):\(port)"]
                arguments += extra
                if let key = keys[offset] { arguments += ["--key", key] }
                if index > 1 { arguments += ["--peer", "http://\(sandbox.address(1)):\(port)"] }
                nodes.append(try await LocalNode.start(
                    executable: try sandbox.qbcScript(index, in: dir), dataDirectory: dir.file("node\(index)"), arguments: arguments,
                    environment: ["QBC_PEERS": "", "QBC_ADVERTISE": "", "QBC_LOG_LEVEL": "warning"], directory: NodeProcess.repositoryRoot))
            }
        } catch {
            for node in nodes { await node.kill() }
            sandbox.remove()
            throw error
        }
        let net = SandboxNet(sandbox: sandbox, nodes: nodes, chain: try ChainID(hex: nodes[0].chainID))
        try await eventually("the mesh formed", within: 30) { await net.all()?.allSatisfy { $0.peers == nodes.count - 1 } == true }
        return net
    }

    func stop() {
        for node in nodes { node.kill() }
        sandbox.remove()
    }

    func call(_ index: Int, _ method: String, _ path: String, body: [UInt8] = []) async -> (status: Int, body: [UInt8])? {
        await request(in: sandbox.namespace(index), port: Self.port, method, path, body: body)
    }

    func stats(_ index: Int) async -> StatsJSON? {
        guard let answer = await call(index, "GET", "/stats"), answer.status == 200 else { return nil }
        return try? JSONDecoder().decode(StatsJSON.self, from: Data(answer.body))
    }

    /// Every node's stats, or nil when one does not answer.
    func all() async -> [StatsJSON]? {
        var found = [StatsJSON]()
        for index in 1...nodes.count {
            guard let one = await stats(index) else { return nil }
            found.append(one)
        }
        return found
    }

    /// Every node on one tip with nothing waiting (peers that could not reach each other back off
    /// 1, 2, 4 … s, so it may take a while), staying so, and every id in `ids` committed there.
    func expectConverged(losing ids: Set<String>) async throws {
        func agreed() async -> Bool {
            guard let stats = await all() else { return false }
            return stats.allSatisfy { $0.tipHash == stats[0].tipHash && $0.mempool == 0 }
        }
        try await eventually("every node on one tip with nothing waiting", within: 90) { await agreed() }
        for _ in 0..<3 {
            try await Task.sleep(for: .seconds(1))
            #expect(await agreed(), "the nodes stay on one tip with nothing waiting")
        }
        // One tip is one chain: what is committed on node 1 is on every node.
        var missing = 0
        for id in ids {
            let answer = await call(1, "GET", "/tx/\(id)")
            let status = answer.flatMap { try? JSONDecoder().decode(TransactionLookupJSON.self, from: Data($0.body)) }?.status
            if status != "committed" { missing += 1 }
        }
        #expect(missing == 0, "\(missing) of \(ids.count) admitted transactions are not committed")
    }
}

/// A batch every 100 ms to each node in turn (the cut ones too, from inside their namespaces),
/// keeping the ids admitted, and how many each node admitted while a partition held.
final class Load: Sendable {
    private let admitted = Admitted()
    private let cut = Locked(false)
    private let apartCounts = Locked([Int: Int]())
    private let task: Task<Void, Never>

    init(_ net: SandboxNet) {
        let (admitted, cut, apartCounts) = (admitted, cut, apartCounts)
        task = Task {
            guard let writer = try? Keys.load("writer1") else { return }
            var round = 0
            while !Task.isCancelled {
                round += 1
                let index = round % net.nodes.count + 1
                let batch = (0..<5).map { signed(#"{"partition":\#(round),"i":\#($0)}"#, chain: net.chain, by: writer) }
                let apart = cut.value
                let answer = await net.call(index, "POST", "/inject", body: NodeClient.encodeBatch(batch))
                if let answer, answer.status == 200, let results = try? JSONDecoder().decode(InjectBatchJSON.self, from: Data(answer.body)) {
                    for result in results.results where result.status == "admitted" {
                        if let id = result.id { admitted.add(id) }
                        if apart, cut.value { apartCounts.withValue { $0[index, default: 0] += 1 } }
                    }
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Runs `change` (a cut) and counts what is admitted from then on as admitted apart.
    func apart(_ change: () throws -> Void) rethrows {
        try change()
        cut.value = true
    }

    func together(_ change: () throws -> Void) rethrows {
        cut.value = false
        try change()
    }

    var admittedApart: [Int: Int] { apartCounts.value }

    /// Stops the load; the ids admitted.
    func stop() async -> Set<String> {
        task.cancel()
        _ = await task.value
        return admitted.all
    }
}
