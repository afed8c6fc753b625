import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

/// A chain's rules for tests: PoW at 2 bits, the demo admin, the given writers and nodes.
func testBang(
    _ name: String, nodes: [SigningKey], writers: [SigningKey], admins: [SigningKey]? = nil, quorum: UInt8 = 1,
    schema: String? = nil, fork: ForkPoint? = nil, creator: SigningKey? = nil, readers: [SigningKey] = [],
    lockedFields: [String] = [], readersOnly: Bool = false
) throws -> Bang {
    let admins = try admins ?? [Keys.load("admin")]
    var roles = [PublicKey: Role]()
    for key in admins { roles[key.publicKey, default: []].insert(.admin) }
    for key in writers { roles[key.publicKey, default: []].insert(.writer) }
    for key in nodes { roles[key.publicKey, default: []].formUnion([.node, .authority]) }
    for key in readers { roles[key.publicKey, default: []].insert(.reader) }
    let rules = ChainRules(
        name: name, consensus: .proofOfWork(difficultyBits: 2), membership: Membership(roles),
        payload: try PayloadRules(contentType: nil, schemaText: schema.map { Array($0.utf8) }, lockedFields: lockedFields),
        adminQuorum: quorum, fork: fork, readersOnly: readersOnly)
    return Bang(rules: rules, timestamp: now(), creator: creator ?? admins[0])
}

@Suite struct ChainsNetworkTests {
    static let orders = #"{"type":"object","required":["sku","qty"],"additionalProperties":false,"properties":{"sku":{"type":"string","pattern":"^[A-Z]{3}-[0-9]+$"},"qty":{"type":"integer","minimum":1}}}"#
    static let sensors = #"{"type":"object","required":["celsius"],"properties":{"celsius":{"type":"number","minimum":-90,"maximum":60}}}"#

    @Test func twoChainsKeepTheirOwnDataAndANonMemberGetsNothing() async throws {
        let net = try await TestNetwork()
        try await eventually("a full mesh") { try await net.all { try await $0.stats().peers == 2 } }
        let nodeKeys = try (1...3).map { try Keys.load("node\($0)") }
        let writer = try Keys.load("writer1")
        let orders = try testBang("orders", nodes: nodeKeys, writers: [writer], schema: Self.orders)
        // Node 3 is not a member of "sensors": it must never receive its Bang or its Quants.
        let sensors = try testBang("sensors", nodes: Array(nodeKeys.prefix(2)), writers: [writer], schema: Self.sensors)
        #expect(try await net.client(0).create(orders).status == "created")
        #expect(try await net.client(0).create(sensors).status == "created")
        await expectRefusal(403, "not_authorized") { try await net.client(2).create(sensors) }

        try await eventually("every member node adopted its chains") {
            let names = try await Array(0..<3).asyncMap { Set(try await net.client($0).chains().map(\.name)) }
            return names[0] == ["dev", "orders", "sensors"] && names[1] == ["dev", "orders", "sensors"] && names[2] == ["dev", "orders"]
        }
        let ordersAt2 = NodeClient(baseURL: net.nodes[1].url, chain: "orders")
        let sensorsAt2 = NodeClient(baseURL: net.nodes[1].url, chain: "sensors")
        #expect(try await ordersAt2.submit(signed(#"{"sku":"ABC-1","qty":2}"#, chain: orders.id, by: writer)).status == "admitted")
        #expect(try await sensorsAt2.submit(signed(#"{"celsius":21.5}"#, chain: sensors.id, by: writer)).status == "admitted")
        // Each chain refuses the other's data and anything its schema forbids.
        await expectRefusal(422, "invalid_payload") { try await ordersAt2.submit(signed(#"{"celsius":21.5}"#, chain: orders.id, by: writer)) }
        await expectRefusal(422, "invalid_payload") { try await ordersAt2.submit(signed(#"{"sku":"ABC-1","qty":0}"#, chain: orders.id, by: writer)) }
        await expectRefusal(422, "invalid_payload") { try await ordersAt2.submit(signed(#"{"sku":"abc","qty":1}"#, chain: orders.id, by: writer)) }
        await expectRefusal(422, "invalid_payload") { try await sensorsAt2.submit(signed(#"{"sku":"ABC-1","qty":2}"#, chain: sensors.id, by: writer)) }
        await expectRefusal(422, "wrong_chain") { try await sensorsAt2.submit(signed(#"{"celsius":1}"#, chain: orders.id, by: writer)) }

        try await eventually("the transactions reached node 1") {
            let waiting = try await NodeClient(baseURL: net.nodes[0].url, chain: "orders").stats().mempool
            let sensed = try await NodeClient(baseURL: net.nodes[0].url, chain: "sensors").stats().mempool
            return waiting == 1 && sensed == 1
        }
        _ = try await NodeClient(baseURL: net.nodes[0].url, chain: "orders").leap()
        _ = try await NodeClient(baseURL: net.nodes[0].url, chain: "sensors").leap()
        try await eventually("both chains committed on their members") {
            let first = try await NodeClient(baseURL: net.nodes[0].url, chain: "orders").stats().transactions
            let third = try await NodeClient(baseURL: net.nodes[2].url, chain: "orders").stats().transactions
            let sensed = try await NodeClient(baseURL: net.nodes[0].url, chain: "sensors").stats().transactions
            return first == 1 && third == 1 && sensed == 1
        }
        #expect(try await verifyWholeChain(NodeClient(baseURL: net.nodes[2].url, chain: "orders"), chain: orders.id) == 1)
        // Node 3 serves no "sensors", and its signed peer requests for it are refused.
        await expectRefusal(404, "unknown_chain") { try await NodeClient(baseURL: net.nodes[2].url, chain: "sensors").stats() }
        let asNode3 = NodeClient(baseURL: net.nodes[0].url, peerKey: nodeKeys[2], clock: { now() })
        await expectRefusal(403, "not_authorized") { try await asNode3.peerQuants(chain: sensors.id, from: 1, limit: 10) }
        await expectRefusal(403, "not_authorized") { try await asNode3.peerBang(chain: sensors.id) }
        let json = try await asNode3.peerQuants(chain: orders.id, from: 1, limit: 10)
        #expect(json.quants.count >= 1)
        // The binary page nodes sync with holds the same Quants as the JSON one.
        let binary = try await asNode3.peerQuantPage(chain: orders.id, from: 1, limit: 10, limits: .standard)
        let fromJSON = try json.quants.map { try $0.quant(maxPayloadBytes: TransactionLimits.standard.maxPayloadBytes) }
        #expect(binary.map(\.hash) == fromJSON.map(\.hash))
        #expect(binary.map { $0.transactions.map(\.id) } == fromJSON.map { $0.transactions.map(\.id) })
        await expectRefusal(403, "not_authorized") { try await asNode3.peerQuantPage(chain: sensors.id, from: 1, limit: 10, limits: .standard) }

        // Governance removes node 3 from "orders": once committed, it is refused and gets nothing more.
        let admin = try Keys.load("admin")
        let change = MembershipChange(chain: orders.id, action: .revoke, member: nodeKeys[2].publicKey, roles: [.node, .authority], nonce: .random())
        let proposal = MembershipProposal(change: change, approvals: [Approval(approving: change, with: admin)])
        let ordersAt1 = NodeClient(baseURL: net.nodes[0].url, chain: "orders")
        #expect(try await ordersAt1.submit(signed(bytes: proposal.encoded, chain: orders.id, by: admin, contentType: MembershipChange.contentType)).status == "admitted")
        #expect(try await ordersAt1.leap().sealed)
        try await eventually("the remaining nodes applied the removal") {
            for index in 0..<2 {
                let members = try await NodeClient(baseURL: net.nodes[index].url, chain: "orders").members()
                if members.members.contains(where: { $0.key == nodeKeys[2].publicKey.hex }) { return false }
            }
            return true
        }
        await expectRefusal(403, "not_authorized") { try await asNode3.peerQuants(chain: orders.id, from: 1, limit: 10) }
        _ = try await ordersAt1.submit(signed(#"{"sku":"XYZ-9","qty":1}"#, chain: orders.id, by: writer))
        #expect(try await ordersAt1.leap().sealed)
        try await eventually("node 2 has the new Quant") {
            try await NodeClient(baseURL: net.nodes[1].url, chain: "orders").stats().height == 3
        }
        try await Task.sleep(for: .milliseconds(1500))
        // Relaying follows the membership after each Quant, so not even the removing Quant reaches node 3.
        #expect(try await NodeClient(baseURL: net.nodes[2].url, chain: "orders").stats().height == 1, "the removed node gets nothing more")
    }
}
