import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

/// Three real nodes, each in a network namespace of its own, cut apart by a real partition while
/// clients keep writing to both sides (`NetworkSandbox`): after it heals they must end on one tip
/// with every transaction any of them admitted committed. The simulator plays partitions by the
/// thousand on a simulated network; this is the same with the kernel's.
@Suite(.serialized) struct KernelPartitionTests {
    /// Every node listens on this port in its own namespace.
    static let port = 7001

    @Test(.enabled(if: NetworkSandbox.unavailable == nil, "\(NetworkSandbox.unavailable ?? "")"), arguments: ["pow", "poa"])
    func nodesCutApartUnderLoadEndOnOneChainLosingNothing(_ engine: String) async throws {
        let sandbox = try NetworkSandbox(nodes: 3)
        let dir = try TemporaryDirectory()
        let consensus: [String: Any] = engine == "pow" ? ["engine": "pow", "difficultyBits": 8] : ["engine": "poa", "outOfTurnDelayMilliseconds": 500]
        var nodes = [LocalNode]()
        defer {
            for node in nodes { node.kill() }
            sandbox.remove()
        }
        for index in 1...3 {
            var arguments = [
                "--config", try TestNetwork.config(index, in: dir, engine: consensus), "--host", "0.0.0.0", "--port", "\(Self.port)",
                "--advertise", "http://\(sandbox.address(index)):\(Self.port)", "--leap-interval-ms", "300",
            ]
            if index > 1 { arguments += ["--peer", "http://\(sandbox.address(1)):\(Self.port)"] }
            nodes.append(try await LocalNode.start(
                executable: try sandbox.qbcScript(index, in: dir), dataDirectory: dir.file("node\(index)"), arguments: arguments,
                environment: ["QBC_PEERS": "", "QBC_ADVERTISE": "", "QBC_LOG_LEVEL": "warning"], directory: NodeProcess.repositoryRoot))
        }
        let chain = try ChainID(hex: nodes[0].chainID)
        func stats(_ index: Int) async -> StatsJSON? {
            guard let answer = await request(in: sandbox.namespace(index), port: Self.port, "GET", "/stats"), answer.status == 200 else { return nil }
            return try? JSONDecoder().decode(StatsJSON.self, from: Data(answer.body))
        }
        func all() async -> [StatsJSON]? {
            var found = [StatsJSON]()
            for index in 1...3 {
                guard let one = await stats(index) else { return nil }
                found.append(one)
            }
            return found
        }
        try await eventually("the mesh formed", within: 30) { await all()?.allSatisfy { $0.peers == 2 } == true }

        // Load: a batch every 100 ms to each node in turn, the cut one included (from inside its namespace).
        let admitted = Admitted()
        // Transactions each node admitted while node 3 was cut off, by node.
        let cut = Locked(false)
        let admittedApart = Locked([Int: Int]())
        let writer = try Keys.load("writer1")
        let namespaces = (1...3).map(sandbox.namespace)
        let load = Task {
            var round = 0
            while !Task.isCancelled {
                round += 1
                let batch = (0..<5).map { signed(#"{"partition":\#(round),"i":\#($0)}"#, chain: chain, by: writer) }
                let apart = cut.value
                let answer = await request(in: namespaces[round % 3], port: Self.port, "POST", "/inject", body: NodeClient.encodeBatch(batch))
                if let answer, answer.status == 200, let results = try? JSONDecoder().decode(InjectBatchJSON.self, from: Data(answer.body)) {
                    for result in results.results where result.status == "admitted" {
                        if let id = result.id { admitted.add(id) }
                        if apart, cut.value { admittedApart.withValue { $0[round % 3 + 1, default: 0] += 1 } }
                    }
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        try await Task.sleep(for: .seconds(3))
        try sandbox.cut(3)
        cut.value = true
        let before = try #require(await all(), "every node answers before the cut")
        try await Task.sleep(for: .seconds(10))
        let apart = try #require(await all(), "every node answers from inside its namespace during the cut")
        #expect(apart[0].tipHash != apart[2].tipHash, "the partition held: two chains")
        #expect(apart[0].height > before[0].height && apart[2].height > before[2].height, "both sides sealed while apart")
        cut.value = false
        try sandbox.heal(3)
        try await Task.sleep(for: .seconds(3))
        load.cancel()
        _ = await load.value
        let ids = admitted.all
        let sides = admittedApart.value
        #expect(sides[3, default: 0] > 0 && sides[1, default: 0] + sides[2, default: 0] > 0,
                "clients wrote to both sides of the partition: \(sides) admitted while apart, \(ids.count) in all")

        func agreed() async -> Bool {
            guard let stats = await all() else { return false }
            return stats.allSatisfy { $0.tipHash == stats[0].tipHash && $0.mempool == 0 }
        }
        // Peers that could not reach each other back off (1, 2, 4 … s): agreement may take a while.
        try await eventually("every node on one tip with nothing waiting", within: 90) { await agreed() }
        for _ in 0..<3 {
            try await Task.sleep(for: .seconds(1))
            #expect(await agreed(), "the nodes stay on one tip with nothing waiting")
        }
        // One tip is one chain: every admitted transaction committed on node 1 is on all three.
        var missing = 0
        for id in ids {
            let answer = await request(in: sandbox.namespace(1), port: Self.port, "GET", "/tx/\(id)")
            let status = answer.flatMap { try? JSONDecoder().decode(TransactionLookupJSON.self, from: Data($0.body)) }?.status
            if status != "committed" { missing += 1 }
        }
        #expect(missing == 0, "\(missing) of \(ids.count) admitted transactions are not committed")
    }
}
