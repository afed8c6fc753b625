import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

/// Three real node processes on loopback, from config/node1..3.json.
struct TestNetwork {
    let dir: TemporaryDirectory
    var nodes: [LocalNode]
    let chain: ChainID

    init(count: Int = 3, extra: [String] = []) async throws {
        dir = try TemporaryDirectory()
        var nodes = [try await Self.start(1, dir: dir, peer: nil, extra: extra)]
        for index in 2...count { nodes.append(try await Self.start(index, dir: dir, peer: nodes[0].url, extra: extra)) }
        self.nodes = nodes
        chain = try ChainID(hex: nodes[0].chainID)
    }

    static func start(
        _ index: Int, dir: TemporaryDirectory, peer: String?, key: String? = nil, config: String? = nil, extra: [String] = [],
        environment: [String: String] = [:]
    ) async throws -> LocalNode {
        // The config files name fixed ports and peers; tests use free ports and their own peers.
        var arguments = ["--config", config ?? NodeProcess.repositoryRoot + "/config/node\(index).json"] + extra
        if let peer { arguments += ["--peer", peer] }
        if let key { arguments += ["--key", key] }
        return try await NodeProcess.start(
            dataDirectory: dir.file("node\(index)"), arguments: arguments,
            environment: ["QBC_PEERS": "", "QBC_ADVERTISE": ""].merging(environment) { $1 })
    }

    /// config/nodeN.json with another consensus section (e.g. proof of authority), written to `dir`.
    static func config(_ index: Int, in dir: TemporaryDirectory, engine: [String: Any]) throws -> String {
        let source = URL(fileURLWithPath: NodeProcess.repositoryRoot + "/config/node\(index).json")
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any])
        var chain = try #require(config["chain"] as? [String: Any])
        chain["name"] = "\(engine["engine"] ?? "dev")"
        chain["consensus"] = engine
        config["chain"] = chain
        let path = dir.file("\(engine["engine"] ?? "dev")\(index).json")
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
        return path
    }

    func client(_ index: Int) -> NodeClient { NodeClient(baseURL: nodes[index].url) }

    /// True when `predicate` holds on every node.
    func all(_ predicate: (NodeClient) async throws -> Bool) async throws -> Bool {
        for node in nodes where !(try await predicate(NodeClient(baseURL: node.url))) { return false }
        return true
    }
}

/// Polls every 50 ms until `condition` holds or `seconds` of wall-clock time pass. An error from
/// the condition (a node busy past a call's timeout) counts as "not yet" and is reported if the
/// wait ends without success: under the parallel suite on two cores a single call can take
/// seconds, and 300 polls used to mean anywhere from 15 s to minutes.
func eventually(
    _ what: String, within seconds: Double = 20, _ condition: () async throws -> Bool, sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    var lastError: (any Error)?
    repeat {
        do {
            if try await condition() { return }
            lastError = nil
        } catch {
            lastError = error
        }
        try await Task.sleep(for: .milliseconds(50))
    } while Date() < deadline
    let why = lastError.map { " (the last check threw: \($0))" } ?? ""
    Issue.record("timed out after \(Int(seconds)) s waiting until \(what)\(why)", sourceLocation: sourceLocation)
}

@Suite struct NetworkTests {
    @Test func discoveryGossipAndQuantsReachEveryNode() async throws {
        let net = try await TestNetwork()
        try await eventually("every node knows both others") { try await net.all { try await $0.stats().peers == 2 } }
        let discovered = try await net.client(2).discover()
        #expect(discovered.registrations().count == 3)
        #expect(discovered.registrations().allSatisfy { (try? $0.checkSignature()) != nil }, "relayed entries verify")
        #expect(discovered.chains?.first?.chain == net.chain.hex)

        let tx = signed(#"{"net":1}"#, chain: net.chain, by: try Keys.load("writer1"))
        _ = try await net.client(0).submit(tx)
        try await eventually("the transaction waits on every node") {
            try await net.all { (try? await $0.transaction(tx.id.hex).status) == "waiting" }
        }
        let sealed = try #require(try await net.client(1).leap().quant)
        try await eventually("every tip is node 2's Quant") { try await net.all { try await $0.stats().tipHash == sealed.hash } }
        for i in 0..<3 { #expect(try await net.client(i).stats().mempool == 0) }
    }

    @Test func aStoppedNodeCatchesUpWhenRestarted() async throws {
        var net = try await TestNetwork()
        try await eventually("the mesh formed") { try await net.client(2).stats().peers == 2 }
        await net.nodes[2].stop()
        let writer = try Keys.load("writer2")
        for i in 0..<4 {
            _ = try await net.client(0).submit(signed(#"{"i":\#(i)}"#, chain: net.chain, by: writer))
            _ = try await net.client(0).leap()
        }
        let tip = try await net.client(0).stats()
        #expect(tip.height == 4)
        net.nodes[2] = try await TestNetwork.start(3, dir: net.dir, peer: net.nodes[0].url)
        try await eventually("node 3 reached node 1's tip") { try await net.client(2).stats().tipHash == tip.tipHash }
        #expect(try await verifyWholeChain(net.client(2), chain: net.chain) == 4)
    }

    /// A fresh node's sync loop asks its peers every `network.syncIntervalMilliseconds`; these
    /// tests make that ten minutes, so only asking a peer met for the first time at once can sync.
    static let noSyncLoop = ["QBC_SYNC_INTERVAL_MS": "600000"]

    /// Seals three Quants of a transaction each on `node`; its stats then.
    static func threeQuants(on node: LocalNode) async throws -> StatsJSON {
        let holding = NodeClient(baseURL: node.url)
        let chain = try ChainID(hex: node.chainID)
        let writer = try Keys.load("writer1")
        for i in 0..<3 {
            _ = try await holding.submit(signed(#"{"i":\#(i)}"#, chain: chain, by: writer))
            _ = try await holding.leap()
        }
        return try await holding.stats()
    }

    /// A node that a peer registers with registers back at once: until it is known there, the
    /// peer refuses its signed calls, and it used to wait for its own next round of registrations
    /// (up to 30 s) before it could sync from the peer that found it. It then asks that peer for
    /// its tip at once: it used to learn of it only from its sync loop's next round, because the
    /// peer was no longer new when the answer to its registration back named it.
    @Test func aNodeFoundByAPeerRegistersBackAndSyncsAtOnce() async throws {
        let dir = try TemporaryDirectory()
        let holder = try await TestNetwork.start(1, dir: dir, peer: nil)
        let tip = try await Self.threeQuants(on: holder)
        let holding = NodeClient(baseURL: holder.url)
        // The fresh node's own next round of registrations comes 30 s after it starts: the sync
        // must come before it to show the registration back did it.
        let started = Date()
        let fresh = try await TestNetwork.start(2, dir: dir, peer: nil, environment: Self.noSyncLoop)
        let freshClient = NodeClient(baseURL: fresh.url)
        // The holder's own registration, as it would send it: the fresh node admits it.
        let registration = try #require(try await holding.discover().registrations().first)
        _ = try await freshClient.register(registration)
        try await eventually("the fresh node synced from the peer that found it, before its own round at 30 s",
                             within: 28 - Date().timeIntervalSince(started)) {
            try await freshClient.stats().tipHash == tip.tipHash
        }
    }

    /// A fresh node started with peers syncs from them without waiting for its sync loop, whichever
    /// comes first: the answer to its registration or a peer's registration back. It registers
    /// with its peers in address order, here an empty one first: the catch-up with the peer that
    /// holds the chain used to be dropped while the one with the empty peer was scheduled.
    @Test func aFreshNodeSyncsFromItsPeersWithoutWaitingForItsSyncLoop() async throws {
        let dir = try TemporaryDirectory()
        let one = try await TestNetwork.start(1, dir: dir, peer: nil)
        let three = try await TestNetwork.start(3, dir: dir, peer: nil)
        let (empty, holder) = one.url < three.url ? (one, three) : (three, one)
        let tip = try await Self.threeQuants(on: holder)
        let fresh = try await TestNetwork.start(
            2, dir: dir, peer: empty.url, extra: ["--peer", holder.url], environment: Self.noSyncLoop)
        let freshClient = NodeClient(baseURL: fresh.url)
        try await eventually("the fresh node synced from its peers, with its sync loop's next round ten minutes away") {
            try await freshClient.stats().tipHash == tip.tipHash
        }
    }

    /// Issue 12: pushes to all peers used to be awaited together, so a peer that accepts
    /// connections and never answers held every later push for its 10 s timeout. Each peer now
    /// has its own queue; live peers get every push at once.
    @Test func aPeerThatNeverAnswersDelaysNoOtherPeer() async throws {
        let net = try await TestNetwork(count: 2)
        let silent = try SilentListener()
        defer { silent.stop() }
        try await eventually("both nodes are admitted") { try await net.all { try await $0.stats().peers == 1 } }
        let hanging = Registration(
            key: try Keys.load("node3"), address: "http://127.0.0.1:\(silent.port)", chains: [net.chain], timestamp: now())
        _ = try await net.client(0).register(hanging)
        #expect(try await net.client(0).stats().peers == 2)
        let writer = try Keys.load("writer1")
        for index in 0..<6 {
            let tx = signed(#"{"behindASilentPeer":\#(index)}"#, chain: net.chain, by: writer)
            let sent = ContinuousClock.now
            _ = try await net.client(0).submit(tx)
            while (try? await net.client(1).transaction(tx.id.hex).status) != "waiting" {
                // Under the 10 s a push to the silent peer may take, which a relay that waited for
                // it would add to every transaction after the first (8 s: room for a loaded machine).
                guard ContinuousClock.now - sent < .seconds(8) else {
                    Issue.record("transaction \(index) took over 8 s to reach the live peer")
                    return
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    @Test func aKeyWithoutTheNodeRoleIsRefused() async throws {
        let net = try await TestNetwork(count: 2)
        let outsider = try Keys.load("writer1")
        let registration = Registration(key: outsider, address: "http://127.0.0.1:9", chains: [net.chain], timestamp: now())
        await expectRefusal(403, "not_authorized") { try await net.client(0).register(registration) }
        let forged = Registration(
            node: try Keys.load("node3").publicKey, address: "http://127.0.0.1:9", chains: [net.chain], timestamp: now(),
            signature: registration.signature)
        await expectRefusal(401, "bad_signature") { try await net.client(0).register(forged) }
        // Its peer requests are refused and change nothing.
        let asOutsider = NodeClient(baseURL: net.nodes[0].url, peerKey: outsider, clock: { now() })
        await expectRefusal(403, "not_authorized") {
            try await asOutsider.peerPush(transactions: [signed("{}", chain: net.chain, by: outsider)], chain: net.chain)
        }
        let unsigned = try await raw("GET", net.nodes[0].url + "/peer/chains/\(net.chain.hex)/tip")
        #expect(unsigned.status == 401)
        // An admitted peer's request signed 2 minutes ago is not authenticated either.
        try await eventually("node 2 is admitted") { try await net.client(0).stats().peers == 1 }
        let stale = NodeClient(baseURL: net.nodes[0].url, peerKey: try Keys.load("node2"),
                               clock: { Timestamp(milliseconds: now().milliseconds - 120_000) })
        await expectRefusal(401, "timestamp_too_old") { try await stale.peerTip(chain: net.chain) }
        let fresh = NodeClient(baseURL: net.nodes[0].url, peerKey: try Keys.load("node2"), clock: { now() })
        #expect(try await fresh.peerTip(chain: net.chain).height == 0)
        #expect(try await net.client(0).stats().mempool == 0)
        #expect(try await net.client(0).discover().peers.allSatisfy { $0.node != outsider.publicKey.hex })
    }

    /// Nodes since 0.4 push transactions and Quants in binary; the peer routes take those and
    /// JSON, refuse other types with 415 (what a node before 0.4 answers to a binary body, and
    /// what makes a pusher fall back to JSON), and a binary body that does not decode with 400.
    @Test func peersTakeBinaryPushesAndJSONAndRefuseOtherTypes() async throws {
        let net = try await TestNetwork(count: 2)
        try await eventually("node 2 is admitted at node 1") { try await net.client(0).stats().peers == 1 }
        let node2 = NodeClient(baseURL: net.nodes[0].url, peerKey: try Keys.load("node2"), clock: { now() })
        let writer = try Keys.load("writer1")
        let gossiped = (0..<3).map { signed(#"{"g":\#($0)}"#, chain: net.chain, by: writer) }
        try await node2.peerPush(binaryTransactions: Transaction.encodeBatch(gossiped), chain: net.chain)
        try await node2.peerPush(transactions: [signed(#"{"g":"json"}"#, chain: net.chain, by: writer)], chain: net.chain)
        #expect(try await net.client(0).stats().mempool == 4)
        await expectRefusal(400, "malformed") { try await node2.peerPush(binaryTransactions: [0, 0, 0, 9], chain: net.chain) }
        await expectRefusal(415, "unsupported_media_type") {
            try await node2.call(
                "POST", "/peer/chains/\(net.chain.hex)/transactions", body: Transaction.encodeBatch(gossiped),
                headers: [("Content-Type", "application/octet-stream")], as: InjectBatchJSON.self)
        }
        // A Quant of other transactions, mined as node 2 would seal it, pushed as a binary page.
        let txs = (0..<2).map { signed(#"{"q":\#($0)}"#, chain: net.chain, by: writer) }
        var header = QuantHeader(
            chain: net.chain, height: 1, previous: net.chain, timestamp: now(), merkleRoot: Merkle.root(txs.map(\.id)),
            transactionCount: UInt32(txs.count), proposer: try Keys.load("node2").publicKey, difficultyBits: 8, nonce: 0)
        header = try #require(ProofOfWork.mine(header))
        let page = QuantPage.encode([QuantPage.Part(header: header, certificate: nil, transactions: txs.map(\.encoded))])
        await expectRefusal(400, "malformed") { try await node2.peerPush(binaryQuant: Array(page.dropLast()), chain: net.chain) }
        #expect(try await node2.peerPush(binaryQuant: page, chain: net.chain).status == "committed")
        #expect(try await net.client(0).stats().height == 1)
        #expect(try await verifyWholeChain(net.client(0), chain: net.chain) == 2)
    }

    @Test func forgedQuantsPushedByAPeerAreRejected() async throws {
        let net = try await TestNetwork(count: 2)
        try await eventually("node 2 is admitted at node 1") { try await net.client(0).stats().peers == 1 }
        let node2 = NodeClient(baseURL: net.nodes[0].url, peerKey: try Keys.load("node2"), clock: { now() })
        let writer = try Keys.load("writer1")
        let proposer = try Keys.load("node2").publicKey
        let txs = (0..<3).map { signed(#"{"q":\#($0)}"#, chain: net.chain, by: writer) }
        func mined(_ transactions: [Transaction], height: UInt64 = 1, previous: Hash? = nil,
                   mutate: (inout QuantHeader) -> Void = { _ in }) -> QuantJSON {
            var header = QuantHeader(
                chain: net.chain, height: height, previous: previous ?? net.chain, timestamp: now(),
                merkleRoot: Merkle.root(transactions.map(\.id)), transactionCount: UInt32(transactions.count),
                proposer: proposer, difficultyBits: 8, nonce: 0)
            mutate(&header)
            header = ProofOfWork.mine(header) ?? header
            return QuantJSON(header: QuantHeaderJSON(header: header, cumulativeWork: 0, cumulativeTransactions: 0),
                             transactions: transactions.map(TransactionJSON.init))
        }
        var header = try mined(txs).header.quantHeader()
        repeat { header.nonce &+= 1 } while header.hash.leadingZeroBits >= 8
        let unmined = QuantJSON(header: QuantHeaderJSON(header: header, cumulativeWork: 0, cumulativeTransactions: 0),
                                transactions: txs.map(TransactionJSON.init))
        await expectRefusal(422, "bad_proof") { try await node2.peerPush(quant: unmined) }
        let tampered = Transaction(
            body: .init(chain: txs[0].chain, sender: txs[0].sender, nonce: txs[0].body.nonce, timestamp: txs[0].timestamp,
                        contentType: txs[0].contentType, payload: Array(#"{"q":"forged"}"#.utf8)),
            signature: txs[0].signature)
        await expectRefusal(401, "bad_signature") { try await node2.peerPush(quant: mined([tampered] + txs.dropFirst())) }
        #expect(try await net.client(0).stats().height == 0, "nothing changed")

        let valid = try await node2.peerPush(quant: mined(txs))
        #expect(valid.status == "committed")
        let first = try await net.client(0).stats()
        #expect(first.height == 1)

        // A third invalid Quant brings node 2 to the ban score: even valid requests are then refused.
        let more = (0..<2).map { signed(#"{"r":\#($0)}"#, chain: net.chain, by: writer) }
        let tip = try Hash(hex: first.tipHash)
        await expectRefusal(422, "bad_merkle_root") {
            try await node2.peerPush(quant: mined(more, height: 2, previous: tip) { $0.merkleRoot = .zero })
        }
        await expectRefusal(403, "not_authorized") { try await node2.peerPush(quant: mined(more, height: 2, previous: tip)) }
        #expect(try await net.client(0).stats().height == 1)
    }
}

@Suite struct PartitionTests {
    @Test func twoPartitionsThatEachGrewConvergeOnTheHeavierChain() async throws {
        let dir = try TemporaryDirectory()
        let one = try await TestNetwork.start(1, dir: dir, peer: nil)
        let two = try await TestNetwork.start(2, dir: dir, peer: nil)
        let (a, b) = (NodeClient(baseURL: one.url), NodeClient(baseURL: two.url))
        let chain = try ChainID(hex: one.chainID)
        let writer = try Keys.load("writer1")
        for i in 0..<3 {
            _ = try await a.submit(signed(#"{"a":\#(i)}"#, chain: chain, by: writer))
            _ = try await a.leap()
        }
        let lonely = signed(#"{"b":"only here"}"#, chain: chain, by: writer)
        _ = try await b.submit(lonely)
        _ = try await b.leap()
        let heavier = try await a.stats()
        #expect(heavier.height == 3)
        #expect(try await b.stats().height == 1)

        // The partition heals: each registers with the other.
        _ = try await a.register(Registration(key: try Keys.load("node2"), address: two.url, chains: [chain], timestamp: now()))
        _ = try await b.register(Registration(key: try Keys.load("node1"), address: one.url, chains: [chain], timestamp: now()))
        try await eventually("node 2 switched to node 1's heavier chain") { try await b.stats().tipHash == heavier.tipHash }
        #expect(try await verifyWholeChain(b, chain: chain) == 3)
        // Node 2's orphaned transaction is not lost: it waits again, and reaches the chain with the next Leap.
        #expect(try await b.transaction(lonely.id.hex).status == "waiting")
        _ = try await b.leap()
        try await eventually("both tips agree again") { try await a.stats().tipHash == b.stats().tipHash }
        #expect(try await a.transaction(lonely.id.hex).status == "committed")
    }
}

@Suite struct AutomaticProofOfWorkTests {
    @Test func everyNodeSealsAutomaticallyAndAllAgree() async throws {
        let net = try await TestNetwork(extra: ["--leap-interval-ms", "300"])
        try await eventually("the mesh formed") { try await net.all { try await $0.stats().peers == 2 } }
        let writer = try Keys.load("writer2")
        for i in 0..<10 {
            _ = try await net.client(i % 3).submit(signed(#"{"auto":\#(i)}"#, chain: net.chain, by: writer))
        }
        try await eventually("all ten committed and every node on one tip") {
            let stats = try await [net.client(0), net.client(1), net.client(2)].asyncMap { try await $0.stats() }
            return stats.allSatisfy { $0.transactions == 10 && $0.mempool == 0 && $0.tipHash == stats[0].tipHash }
        }
        #expect(try await verifyWholeChain(net.client(1), chain: net.chain) == 10)
    }
}
