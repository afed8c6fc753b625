import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

/// Four authorities on a BFT chain, as real node processes: commits are final and carry their
/// certificates; one down changes nothing; two down stop commits without a fork; one back and
/// the chain goes on.
@Suite struct BFTNetworkTests {
    /// The three demo node keys and a fourth made here, each an authority of a BFT chain.
    struct Setup {
        let dir: TemporaryDirectory
        let configs: [String]
        let keys: [String]
        let authorities: [PublicKey]

        init() throws {
            dir = try TemporaryDirectory()
            let fourth = TestKeys.key(44)
            let fourthPath = dir.file("node4.key")
            try Data(KeyFile.plaintext(fourth)).write(to: URL(fileURLWithPath: fourthPath))
            chmod(fourthPath, 0o600)
            keys = (1...3).map { NodeProcess.demoKey("node\($0)") } + [fourthPath]
            var configs = [String]()
            for index in 1...4 {
                configs.append(try Self.config(base: min(index, 3), fourth: fourth.publicKey, in: dir, index: index))
            }
            self.configs = configs
            authorities = try (1...3).map { try Keys.load("node\($0)").publicKey } + [fourth.publicKey]
        }

        /// config/nodeN.json with a BFT chain whose members include the fourth authority.
        static func config(base: Int, fourth: PublicKey, in dir: TemporaryDirectory, index: Int) throws -> String {
            let source = URL(fileURLWithPath: NodeProcess.repositoryRoot + "/config/node\(base).json")
            var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any])
            var chain = try #require(config["chain"] as? [String: Any])
            chain["name"] = "bft"
            chain["consensus"] = ["engine": "bft", "timeoutMilliseconds": 500, "timeoutIncrementMilliseconds": 250, "maxTimeoutMilliseconds": 3000]
            var members = try #require(chain["members"] as? [[String: Any]])
            members.append(["key": fourth.hex, "roles": ["node", "authority"]])
            chain["members"] = members
            config["chain"] = chain
            let path = dir.file("bft\(index).json")
            try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
            return path
        }

        func start(_ index: Int, peer: String?) async throws -> LocalNode {
            try await TestNetwork.start(index, dir: dir, peer: peer, key: keys[index - 1], config: configs[index - 1])
        }
    }

    @Test func fourAuthoritiesCommitFinallyThroughOneAndTwoDown() async throws {
        let setup = try Setup()
        var nodes = [try await setup.start(1, peer: nil)]
        for index in 2...4 { nodes.append(try await setup.start(index, peer: nodes[0].url)) }
        let clients = nodes.map { NodeClient(baseURL: $0.url) }
        let chain = try ChainID(hex: nodes[0].chainID)
        #expect(try await clients[0].stats().engine == "bft")
        try await eventually("the mesh formed") {
            for client in clients where try await client.stats().peers < 3 { return false }
            return true
        }
        let writer = try Keys.load("writer1")
        let first = (0..<20).map { signed(#"{"bft":\#($0)}"#, chain: chain, by: writer) }
        _ = try await clients[0].submit(batch: first)
        try await eventually("every authority committed the batch, final, on one tip") {
            let stats = try await clients.asyncMap { try await $0.stats() }
            return stats.allSatisfy { $0.transactions == 20 && $0.tipHash == stats[0].tipHash && $0.finalHeight == $0.height }
        }
        #expect(try await verifyWholeChain(clients[3], chain: chain) == 20)
        // Finality is visible, and a client checks the certificate from the authorities alone.
        let lookup = try await clients[2].transaction(first[0].id.hex)
        #expect(lookup.final == true && (lookup.confirmations ?? 0) >= 1)
        let quant = try await clients[1].quant("1")
        let header = try quant.header.quantHeader()
        let certificate = try #require(try quant.header.commitCertificate())
        try certificate.check(header: header, hash: header.hash, authorities: setup.authorities)
        #expect(quant.header.final == true)

        // One authority killed: the other three go on.
        await nodes[3].kill()
        let second = (0..<10).map { signed(#"{"one-down":\#($0)}"#, chain: chain, by: writer) }
        _ = try await clients[1].submit(batch: second)
        try await eventually("three authorities committed without the fourth") {
            let stats = try await Array(clients.prefix(3)).asyncMap { try await $0.stats() }
            return stats.allSatisfy { $0.transactions == 30 && $0.tipHash == stats[0].tipHash }
        }

        // Two killed: no quorum, so nothing commits, and the two left stay on one chain.
        await nodes[2].kill()
        let height = try await clients[0].stats().height
        let third = (0..<5).map { signed(#"{"two-down":\#($0)}"#, chain: chain, by: writer) }
        _ = try await clients[0].submit(batch: third)
        try await Task.sleep(for: .seconds(4))
        for client in clients.prefix(2) {
            let stats = try await client.stats()
            #expect(stats.height == height && stats.transactions == 30, "no quorum, no commit")
        }
        #expect(try await clients[0].stats().tipHash == (try await clients[1].stats().tipHash))

        // One comes back: a quorum again, and the waiting transactions commit.
        nodes[2] = try await setup.start(3, peer: nodes[0].url)
        let back = NodeClient(baseURL: nodes[2].url)
        try await eventually("the three commit what waited") {
            let stats = try await [clients[0], clients[1], back].asyncMap { try await $0.stats() }
            return stats.allSatisfy { $0.transactions == 35 && $0.tipHash == stats[0].tipHash && $0.mempool == 0 }
        }
        #expect(try await verifyWholeChain(back, chain: chain) == 35)
        for node in nodes { await node.stop() }
    }

    @Test func badVotesAndUncertifiedQuantsAreRefusedAndCostTheSender() async throws {
        let setup = try Setup()
        let one = try await setup.start(1, peer: nil)
        let two = try await setup.start(2, peer: one.url)
        try await eventually("node 2 is admitted at node 1") { try await NodeClient(baseURL: one.url).stats().peers == 1 }
        let chain = try ChainID(hex: one.chainID)
        let key = try Keys.load("node2")
        let asNode2 = NodeClient(baseURL: one.url, peerKey: key, clock: { now() })
        func push(_ json: String) async throws {
            try await asNode2.peerPush(encodedConsensus: Array(json.utf8), chain: chain)
        }
        func votes(_ list: [Vote]) -> String { #"{"votes":[\#(list.map { "\"\(Hex.encode($0.encoded))\"" }.joined(separator: ","))]}"# }

        await expectRefusal(400, "malformed") { try await push(#"{"votes":["zz"]}"#) }
        await expectRefusal(400, "malformed") { try await push(#"{"votes":[],"extra":1}"#) }
        // A vote for a height final here already (the Bang's) is answered and dropped, at no cost.
        try await push(votes([Vote(.prevote, chain: chain, height: 0, round: 0, quant: nil, with: key)]))
        // A forged signature, then a voter that is no authority: refused, and each costs the sender.
        let honest = Vote(.prevote, chain: chain, height: 1, round: 0, quant: nil, with: key)
        let forged = Vote(
            kind: .prevote, chain: chain, height: 1, round: 1, quant: nil, voter: key.publicKey, signature: honest.signature)
        await expectRefusal(422, "bad_vote") { try await push(votes([forged])) }
        await expectRefusal(422, "bad_vote") { try await push(votes([Vote(.prevote, chain: chain, height: 1, round: 0, quant: nil, with: try Keys.load("writer1"))])) }
        // A Quant of a BFT chain without its certificate is refused whoever sealed it.
        let header = QuantHeader(
            chain: chain, height: 1, previous: chain, timestamp: now(), merkleRoot: Merkle.root([]), transactionCount: 0,
            proposer: key.publicKey, difficultyBits: 1, nonce: 0
        ).signed(with: key)
        let uncertified = QuantJSON(header: QuantHeaderJSON(header: header, cumulativeWork: 0, cumulativeTransactions: 0), transactions: [])
        await expectRefusal(422, "bad_certificate") { try await asNode2.peerPush(quant: uncertified) }
        // Three strikes: the sender is banned, even for an honest vote.
        await expectRefusal(403, "not_authorized") { try await push(votes([honest])) }
        #expect(try await NodeClient(baseURL: one.url).stats().height == 0)
        await two.stop()
        await one.stop()
    }
}
