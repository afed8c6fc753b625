import Foundation
import QBCCore
import QBCCrypto
import QBCFuzzTargets
import QBCWire
import Testing

/// The valid seeds must stay valid for the fuzz fixtures' chains: a seed that no longer gets past
/// the outer checks (after a fixture or format change) leaves the fuzzer knocking on the front
/// door. Regenerate with `QBC_WRITE_FUZZ_CORPUS=1 swift test --filter CorpusWriter`.
@Suite struct SeedValidityTests {
    let f: FuzzFixtures

    init() throws { f = try #require(FuzzFixtures.shared) }

    func seed(_ target: String, _ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: FuzzCorpusTests.root.appendingPathComponent("Fuzz/Corpus/\(target)/\(name)")))
    }

    @Test func transactions() throws {
        for name in ["text.bin", "json-schema-ok.bin", "json-locked.bin", "lock-whole.bin"] {
            let tx = try Transaction(decoding: try seed("tx-binary", name), limits: .standard)
            try TransactionRules.checkStructure(tx, limits: .standard, now: FuzzFixtures.now)
            try TransactionRules.checkSignature(tx)
        }
        try f.schemaRules.check(try Transaction(decoding: try seed("tx-binary", "json-schema-ok.bin"), limits: .standard))
        try f.lockedRules.check(try Transaction(decoding: try seed("tx-binary", "json-locked.bin"), limits: .standard))
        let batch = try Transaction.decodeBatch(try seed("tx-batch", "all.bin"), limits: .standard, maxCount: 10_000)
        #expect(batch.count > 5)
        let json = try WireJSON.decode(TransactionJSON.self, from: try seed("tx-json", "text.json"), what: "transaction")
        try TransactionRules.checkSignature(try json.transaction(maxPayloadBytes: 65536))
    }

    @Test(arguments: ["pow-empty.json", "pow-two.json", "poa-two.json", "poa-membership.json", "poa-out-of-turn.json"])
    func quants(name: String) throws {
        let bytes = try seed("quant-json", name)
        let bang = f.bang(selector: bytes[0])
        let quant = try WireJSON.decode(QuantJSON.self, from: Array(bytes.dropFirst()), what: "Quant").quant(maxPayloadBytes: 65536)
        let parent = QuantRules.Parent(height: 0, hash: bang.id, timestamp: bang.timestamp, difficultyBits: FuzzFixtures.difficultyBits)
        try QuantRules.checkHeader(quant.header, parent: parent, chain: bang.id, rules: bang.rules, now: FuzzFixtures.now)
        try QuantRules.checkBody(quant, rules: bang.rules, membership: bang.rules.membership)
    }

    @Test func equivocation() throws {
        let bytes = try seed("quant-header", "equivocation.bin")
        let split = Int(bytes[0]) << 8 | Int(bytes[1])
        let a = try QuantHeader(decoding: Array(bytes[2..<2 + split]))
        let b = try QuantHeader(decoding: Array(bytes[(2 + split)...]))
        #expect(Equivocation(a, b) != nil)
        let other = try seed("quant-header", "not-equivocation-parent.bin")
        let c = try QuantHeader(decoding: Array(other[(2 + split)...]))
        #expect(Equivocation(a, c) == nil, "headers on different parents are no evidence")
    }

    @Test func bangs() throws {
        for name in ["pow.bin", "poa.bin", "schema-fork.bin", "locked-readers.bin"] { try Bang(decoding: try seed("bang", name)).check() }
        let submission = try WireJSON.decode(BangSubmissionJSON.self, from: try seed("bang", "submission-pow.json"), what: "Bang")
        try submission.decoded().check()
    }

    @Test func network() throws {
        let json = try WireJSON.decode(RegistrationJSON.self, from: try seed("registration", "node-pow.json"), what: "registration")
        try json.registration().checkAdmission(now: FuzzFixtures.now) { $0 == f.powBang.id ? f.powBang.rules.membership : nil }
        let lines = String(decoding: try seed("read-proof", "reader-ok.txt"), as: UTF8.self).split(separator: "\n").map(String.init)
        try ReadProof.check(
            reader: try PublicKey(hex: lines[0]), signature: try Signature(hex: lines[2]), chain: f.poaBang.id,
            nonce: try Hex.decode(lines[1]), method: lines[3], path: lines[4], membership: f.poaBang.rules.membership)
    }

    @Test(arguments: [("pow-grant-writer.bin", 0), ("poa-grant-authority.bin", 1)])
    func membershipChanges(name: String, chain: Int) throws {
        let bytes = try seed("membership-change", name)
        let bang = chain == 0 ? f.powBang : f.poaBang
        let body = Transaction.Body(
            chain: bang.id, sender: f.admin.publicKey, nonce: Nonce(unchecked: [UInt8](repeating: 0, count: 16)),
            timestamp: FuzzFixtures.now, contentType: MembershipChange.contentType, payload: Array(bytes.dropFirst()))
        let tx = Transaction(signing: body, with: f.admin)
        let membership = bang.rules.membership
        _ = try Governance.check(tx, membership: membership, current: membership, rules: bang.rules, chain: bang.id)
    }

    @Test func locksKeysSchemasSpecs() throws {
        for name in ["recipients.bin", "threshold-2-of-3.bin", "passphrase.bin"] {
            try Lock.checkEnvelope(try seed("lock-envelope", name), chain: f.powBang.id, sender: f.writer.publicKey)
        }
        _ = try KeyFile.open(try seed("key-file", "admin.key"), passphrase: nil)
        #expect(try KeyFile.isEncrypted(try seed("key-file", "encrypted.key")))
        let pair = try seed("payload-schema", "fixture-ok.bin").split(separator: 0, maxSplits: 1).map(Array.init)
        let schema = try PayloadSchema(try #require(JSONValue.parse(pair[0])))
        #expect(schema.violation(in: try #require(JSONValue.parse(pair[1]))) == nil)
        for name in ["schema.json", "poa.json", "locked-readers.json", "retarget.json"] {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(try seed("spec-file", name))) as? [String: Any])
            var spec = ChainSpec.empty
            try spec.apply(object, section: "", path: name)
            _ = try spec.rules(adding: [(f.admin.publicKey, .admin)])
        }
    }
}
