import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

@Suite struct LockNodeTests {
    static let marker = "PLAINTEXT-MARKER-5c1d"

    /// Every byte the node wrote to its data folder (SQLite database, WAL and all).
    /// A readers-only chain "vault" on `t` (writer1 writes, the demo reader reads) holding one
    /// committed transaction.
    static func vault(on t: TestNode) async throws -> (client: NodeClient, bang: Bang, committed: Transaction) {
        let writer = try Keys.load("writer1")
        let reader = try Keys.load("reader")
        let bang = try testBang("vault", nodes: [try ChainsNodeTests.nodeKey(t)], writers: [writer], readers: [reader], readersOnly: true)
        #expect(try await t.client.create(bang).status == "created")
        let vault = NodeClient(baseURL: t.node.url, chain: "vault")
        let tx = signed(#"{"v":1}"#, chain: bang.id, by: writer)
        try await ChainsNodeTests.commit(vault, tx)
        return (vault, bang, tx)
    }

    static func dataFolderBytes(_ t: TestNode) throws -> [UInt8] {
        let folder = t.dir.file("data")
        var all = [UInt8]()
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            all += Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
        }
        return all
    }

    @Test func lockedPayloadsAndFieldsLeaveNoPlaintextOnDisk() async throws {
        let t = try await TestNode()
        let writer = try Keys.load("writer1")
        let reader = try Keys.load("reader")
        let other = try Keys.load("writer2")
        let nodeKey = try ChainsNodeTests.nodeKey(t)
        // A chain that locks the "ssn" field of every payload.
        let people = try testBang("people", nodes: [nodeKey], writers: [writer, other], readers: [reader], lockedFields: ["ssn"])
        #expect(try await t.client.create(people).status == "created")
        let client = NodeClient(baseURL: t.node.url, chain: "people")
        await expectRefusal(422, "invalid_payload") {
            try await client.submit(signed(#"{"name":"Ada","ssn":"\#(Self.marker)"}"#, chain: people.id, by: writer))
        }
        let field = try Lock.seal(Array(#""\#(Self.marker)""#.utf8), contentType: "application/json", chain: people.id,
                                  sender: writer.publicKey, to: .recipients([reader.publicKey]))
        let lockedValue = PayloadRules.lockedValuePrefix + Base64.encode(field.encoded)
        try await ChainsNodeTests.commit(client, signed(#"{"name":"Ada","ssn":"\#(lockedValue)"}"#, chain: people.id, by: writer))
        // The same envelope lifted into another writer's transaction is refused.
        await expectRefusal(422, "invalid_payload") {
            try await client.submit(signed(#"{"name":"Eve","ssn":"\#(lockedValue)"}"#, chain: people.id, by: other))
        }

        // A wholly locked payload on the default chain.
        let whole = try Lock.seal(Array(Self.marker.utf8), contentType: "text/plain", chain: t.chain, sender: writer.publicKey,
                                  to: .threshold(2, [reader.publicKey, writer.publicKey, other.publicKey]))
        let tx = signed(bytes: whole.encoded, chain: t.chain, by: writer, contentType: Lock.contentType)
        try await ChainsNodeTests.commit(t.client, tx)
        let stored = try await t.client.transaction(tx.id.hex)
        let back = try stored.transaction.transaction(maxPayloadBytes: 1 << 20)
        let reopened = try Lock(decoding: back.payload)
        #expect(try reopened.open(with: [reader, other], chain: back.chain, sender: back.sender) == Array(Self.marker.utf8))
        #expect(throws: LockError.self) { try reopened.open(with: [reader], chain: back.chain, sender: back.sender) }

        await t.node.stop()
        let disk = try Self.dataFolderBytes(t)
        #expect(disk.count > 10_000)
        #expect(!occurs(Array(Self.marker.utf8), in: disk), "no plaintext marker in the node's files")
        #expect(occurs(Array("Ada".utf8), in: disk), "the unlocked field is stored, so the scan can find plaintext")
    }

    @Test func aReadersProofOpensTheChainAndReplaysForgeriesAndOutsidersAreRefused() async throws {
        let t = try await TestNode()
        let (vault, bang, tx) = try await Self.vault(on: t)
        let reader = try Keys.load("reader")
        let writer = try Keys.load("writer1")
        let path = "/tx/\(tx.id.hex)"

        await expectRefusal(401, "proof_required") { try await vault.transaction(tx.id.hex) }
        await expectRefusal(401, "proof_required") { try await vault.page() }
        let read = try await vault.provenRead(path, reader: reader, as: TransactionLookupJSON.self)
        #expect(read.status == "committed")

        // A proof replayed with its (now used) nonce, a forged proof, and a non-reader's proof.
        let challenge = try await vault.call("GET", "/chains/vault/challenge", as: ChallengeJSON.self)
        let nonce = try Hex.decode(challenge.nonce)
        let fullPath = "/chains/vault" + path
        let proof = ReadProof.sign(key: reader, chain: bang.id, nonce: nonce, method: "GET", path: fullPath)
        func send(_ key: PublicKey, _ signature: Signature, nonce: String) async throws -> TransactionLookupJSON {
            try await vault.call("GET", fullPath, headers: [
                (QBCHeader.reader, key.hex), (QBCHeader.nonce, nonce), (QBCHeader.proof, signature.hex),
            ], as: TransactionLookupJSON.self)
        }
        #expect(try await send(reader.publicKey, proof, nonce: challenge.nonce).status == "committed")
        await expectRefusal(401, "stale_challenge") { try await send(reader.publicKey, proof, nonce: challenge.nonce) }
        let fresh = try await vault.call("GET", "/chains/vault/challenge", as: ChallengeJSON.self)
        let forged = ReadProof.sign(key: writer, chain: bang.id, nonce: try Hex.decode(fresh.nonce), method: "GET", path: fullPath)
        await expectRefusal(401, "bad_signature") { try await send(reader.publicKey, forged, nonce: fresh.nonce) }
        // A proof for another request does not open this one.
        let third = try await vault.call("GET", "/chains/vault/challenge", as: ChallengeJSON.self)
        let elsewhere = ReadProof.sign(key: reader, chain: bang.id, nonce: try Hex.decode(third.nonce), method: "GET", path: "/chains/vault/chain")
        await expectRefusal(401, "bad_signature") { try await send(reader.publicKey, elsewhere, nonce: third.nonce) }
        await expectRefusal(403, "not_authorized") { try await vault.provenRead(path, reader: writer, as: TransactionLookupJSON.self) }
        // Chains that are not readers-only read as before.
        #expect(try await t.client.stats().height == 0)
        #expect(try await t.client.page().quants.isEmpty)
    }
}

@Suite struct BinaryBatchTests {
    @Test func binaryBatchesAreAdmittedLikeJSONAndMalformedOnesRefusedWhole() async throws {
        let t = try await TestNode()
        let writer = try Keys.load("writer1")
        let good = (0..<5).map { signed(#"{"b":\#($0)}"#, chain: t.chain, by: writer) }
        let forged = Transaction(body: signed("{}", chain: t.chain, by: writer).body, signature: writer.sign([1]))
        let answer = try await t.client.submit(binaryBatch: Transaction.encodeBatch(good + [forged]))
        #expect(answer.results.map(\.status) == Array(repeating: "admitted", count: 5) + ["rejected"])
        #expect(answer.results.last?.error == "bad_signature")
        var truncated = Transaction.encodeBatch(good)
        truncated.removeLast()
        await expectRefusal(400, "malformed") { try await t.client.submit(binaryBatch: truncated) }
        var lying = Transaction.encodeBatch(good)
        lying[3] = 6  // claims six transactions, holds five
        await expectRefusal(400, "malformed") { try await t.client.submit(binaryBatch: lying) }
        #expect(try await t.client.stats().mempool == 5, "nothing of a refused batch was admitted")
    }
}
