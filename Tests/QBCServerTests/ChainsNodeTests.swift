import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

@Suite struct ChainsNodeTests {
    /// The node's own key, which holds the node role in chains made for it.
    static func nodeKey(_ t: TestNode) throws -> SigningKey {
        try KeyFile.open(Array(try Data(contentsOf: URL(fileURLWithPath: t.dir.file("data/node.key")))), passphrase: nil)
    }

    static func commit(_ client: NodeClient, _ tx: Transaction) async throws {
        #expect(try await client.submit(tx).status == "admitted")
        #expect(try await client.leap().sealed)
    }

    @Test func aForkSharesHistoryUpToItsHeightThenGoesItsOwnWay() async throws {
        let t = try await TestNode()
        let writer = try Keys.load("writer1")
        let dev = t.client
        try await Self.commit(dev, signed(#"{"n":1}"#, chain: t.chain, by: writer))
        try await Self.commit(dev, signed(#"{"n":2}"#, chain: t.chain, by: writer))
        let atOne = try await dev.quant("1").header.hash
        let parent = try await dev.bang()
        var rules = parent.rules
        rules.name = "dev-fork"
        rules.fork = ForkPoint(parent: t.chain, height: 1, hash: try Hash(hex: atOne))
        let admin = try Keys.load("admin")
        let fork = Bang(rules: rules, timestamp: now(), creator: admin)
        #expect(try await dev.create(fork).status == "created")

        let forked = NodeClient(baseURL: t.node.url, chain: "dev-fork")
        let stats = try await forked.stats()
        #expect(stats.fork == ForkJSON(ForkPoint(parent: t.chain, height: 1, hash: try Hash(hex: atOne))))
        #expect(stats.height == 0)
        // Both grow; neither takes the other's transactions.
        try await Self.commit(forked, signed(#"{"fork":1}"#, chain: fork.id, by: writer))
        try await Self.commit(dev, signed(#"{"n":3}"#, chain: t.chain, by: writer))
        #expect(try await forked.stats().transactions == 1)
        #expect(try await dev.stats().height == 3)
        await expectRefusal(422, "wrong_chain") { try await forked.submit(signed(#"{"x":1}"#, chain: t.chain, by: writer)) }
        await expectRefusal(422, "wrong_chain") { try await dev.submit(signed(#"{"x":1}"#, chain: fork.id, by: writer)) }
        // The fork's first Quant sits on its Bang, which names the parent's Quant at height 1.
        let first = try await forked.quant("1").header
        #expect(first.previous == fork.id.hex)

        // A fork point that is not the parent's Quant, or a creator who is no admin of the parent, is refused.
        rules.name = "bad-point"
        rules.fork = ForkPoint(parent: t.chain, height: 1, hash: Hash.blake2b([1]))
        await expectRefusal(422, "wrong_previous") { try await dev.create(Bang(rules: rules, timestamp: now(), creator: admin)) }
        let outsider = SigningKey()
        var stolen = parent.rules
        stolen.name = "stolen"
        stolen.membership.set(outsider.publicKey, .admin)
        stolen.fork = ForkPoint(parent: t.chain, height: 1, hash: try Hash(hex: atOne))
        await expectRefusal(403, "not_authorized") { try await dev.create(Bang(rules: stolen, timestamp: now(), creator: outsider)) }
    }

    @Test func membershipChangesNeedTheQuorumAndTakeEffectWhenCommitted() async throws {
        let (adminA, adminB, newcomer) = (SigningKey(), SigningKey(), SigningKey())
        let t = try await TestNode(environment: ["QBC_CHAIN_CREATORS": adminA.publicKey.hex])
        let bang = try testBang("gov", nodes: [try Self.nodeKey(t)], writers: [], admins: [adminA, adminB], quorum: 2)
        #expect(try await t.client.create(bang).status == "created")
        let gov = NodeClient(baseURL: t.node.url, chain: "gov")
        func change(_ action: MembershipChange.Action, approvers: [SigningKey]) -> Transaction {
            let change = MembershipChange(chain: bang.id, action: action, member: newcomer.publicKey, roles: .writer, nonce: .random())
            let proposal = MembershipProposal(change: change, approvals: approvers.map { Approval(approving: change, with: $0) })
            return signed(bytes: proposal.encoded, chain: bang.id, by: approvers[0], contentType: MembershipChange.contentType)
        }
        await expectRefusal(403, "not_authorized") { try await gov.submit(signed(#"{"a":1}"#, chain: bang.id, by: newcomer)) }
        // One approval where the chain needs two: refused, and nothing changes.
        await expectRefusal(403, "not_authorized") { try await gov.submit(change(.grant, approvers: [adminA])) }
        // A newcomer cannot approve its own entry.
        await expectRefusal(403, "not_authorized") { try await gov.submit(change(.grant, approvers: [adminA, newcomer])) }
        #expect(try await gov.members().members.count == 3)

        try await Self.commit(gov, change(.grant, approvers: [adminA, adminB]))
        #expect(try await gov.members().members.contains { $0.key == newcomer.publicKey.hex && $0.roles == ["writer"] })
        #expect(try await gov.members(height: 0).members.count == 3, "membership at the Bang is unchanged")
        try await Self.commit(gov, signed(#"{"a":1}"#, chain: bang.id, by: newcomer))

        try await Self.commit(gov, change(.revoke, approvers: [adminB, adminA]))
        await expectRefusal(403, "not_authorized") { try await gov.submit(signed(#"{"a":2}"#, chain: bang.id, by: newcomer)) }
        #expect(try await gov.stats().transactions == 3)
    }

    @Test func aRestartedNodeServesEveryChainItHad() async throws {
        let dir = try TemporaryDirectory()
        var first: TestNode? = try await TestNode(dir: dir)
        guard let running = first else { return }
        let writer = try Keys.load("writer1")
        let nodeKey = try Self.nodeKey(running)
        var ids = [String: ChainID]()
        for name in ["alpha", "beta"] {
            let bang = try testBang(name, nodes: [nodeKey], writers: [writer], schema: ChainsNetworkTests.sensors)
            #expect(try await running.client.create(bang).status == "created")
            #expect(try await running.client.create(bang).status == "exists")
            try await Self.commit(NodeClient(baseURL: running.node.url, chain: name), signed(#"{"celsius":4}"#, chain: bang.id, by: writer))
            ids[name] = bang.id
        }
        // Another Bang under a taken name is refused.
        let again = try testBang("alpha", nodes: [nodeKey], writers: [writer])
        await expectRefusal(422, "invalid_bang") { try await running.client.create(again) }
        // "." and ".." are valid names, but clients normalise them out of URL paths.
        for name in [".", ".."] {
            await expectRefusal(422, "invalid_bang") { try await running.client.create(try testBang(name, nodes: [nodeKey], writers: [writer])) }
        }
        await running.node.stop()
        first = nil

        let restarted = try await TestNode(dir: dir)
        let chains = try await restarted.client.chains()
        #expect(chains.map(\.name) == ["dev", "alpha", "beta"], "the default chain stays first")
        for (name, id) in ids {
            let client = NodeClient(baseURL: restarted.node.url, chain: name)
            #expect(try await client.stats().transactions == 1)
            #expect(try await verifyWholeChain(client, chain: id) == 1)
            // The schema is still enforced after the restart.
            await expectRefusal(422, "invalid_payload") { try await client.submit(signed(#"{"celsius":"warm"}"#, chain: id, by: writer)) }
        }
    }

    @Test func badBangsAndQueriesGetTheirStatusAndCreateNothing() async throws {
        let t = try await TestNode()
        let url = t.node.url
        for body in ["not json", #"{"bang":"zz"}"#, #"{"bang":"00"}"#, #"{"bang":"00","extra":1}"#] {
            let answer = try await raw("POST", url + "/chains", body: Array(body.utf8))
            #expect(answer.status == 400, "\(body)")
            #expect(answer.error?.error == "malformed", "\(body)")
        }
        // A Bang whose signature does not verify.
        let bang = try testBang("forged", nodes: [try Self.nodeKey(t)], writers: [])
        var bytes = bang.encoded
        bytes[bytes.count - 1] ^= 1
        let forged = try await raw("POST", url + "/chains", body: Array(#"{"bang":"\#(Hex.encode(bytes))"}"#.utf8))
        #expect(forged.status == 401)
        #expect(forged.error?.error == "bad_signature")
        let tooHigh = try await raw("GET", url + "/chains/dev/members?height=99")
        #expect(tooHigh.status == 400)
        #expect(try await raw("GET", url + "/chains/nope/challenge").status == 404)
        #expect(try await t.client.chains().map(\.name) == ["dev"], "nothing was created")
    }
}
