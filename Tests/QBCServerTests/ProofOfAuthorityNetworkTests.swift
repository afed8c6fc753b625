import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

@Suite struct ProofOfAuthorityNetworkTests {
    static func start(_ index: Int, dir: TemporaryDirectory, peer: String?) async throws -> LocalNode {
        try await TestNetwork.start(index, dir: dir, peer: peer, config: try TestNetwork.config(index, in: dir, engine: ["engine": "poa", "outOfTurnDelayMilliseconds": 500]),
                              extra: ["--leap-interval-ms", "200"])
    }

    @Test func authoritiesSealInTurnAndOneDownNeverHaltsTheChain() async throws {
        let dir = try TemporaryDirectory()
        var nodes = [try await Self.start(1, dir: dir, peer: nil)]
        for index in 2...3 { nodes.append(try await Self.start(index, dir: dir, peer: nodes[0].url)) }
        let clients = nodes.map { NodeClient(baseURL: $0.url) }
        let chain = try ChainID(hex: nodes[0].chainID)
        #expect(try await clients[0].stats().engine == "poa")
        try await eventually("the mesh formed") {
            for client in clients where try await client.stats().peers < 2 { return false }
            return true
        }
        let writer = try Keys.load("writer1")
        let first = (0..<20).map { signed(#"{"p":\#($0)}"#, chain: chain, by: writer) }
        _ = try await clients[0].submit(batch: first)
        try await eventually("every node committed the batch and agrees") {
            let tips = try await clients.asyncMap { try await $0.stats() }
            return tips.allSatisfy { $0.transactions == 20 && $0.tipHash == tips[0].tipHash }
        }
        #expect(try await verifyWholeChain(clients[1], chain: chain) == 20)

        // One authority stops; the other two keep sealing, out of turn when its turn comes.
        await nodes[0].stop()
        let before = try await clients[1].stats().height
        for round in 0..<4 {
            _ = try await clients[1].submit(signed(#"{"after":\#(round)}"#, chain: chain, by: writer))
            try await Task.sleep(for: .milliseconds(400))
        }
        try await eventually("the two running nodes committed everything and agree") {
            let (b, c) = (try await clients[1].stats(), try await clients[2].stats())
            return b.transactions == 24 && b.tipHash == c.tipHash && b.mempool == 0
        }
        #expect(try await clients[2].stats().height > before)
        #expect(try await clients[2].stats().equivocators?.isEmpty ?? true)
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out = [T]()
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
