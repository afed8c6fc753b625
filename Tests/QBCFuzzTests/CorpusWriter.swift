import Foundation
import QBCCore
import QBCCrypto
import QBCFuzzTargets
import QBCWire
import Testing

/// Writes the seed corpus, Fuzz/Corpus/<target>/, from real signed objects of the fuzz fixtures'
/// chains, valid and near-valid, so the fuzzer starts past the outer checks. Runs only when asked:
///
///     QBC_WRITE_FUZZ_CORPUS=1 swift test --filter CorpusWriter
///
/// Envelopes and encrypted key files use fresh random nonces, so a rerun changes those files.
@Suite struct CorpusWriter {
    static let enabled = ProcessInfo.processInfo.environment["QBC_WRITE_FUZZ_CORPUS"] != nil

    @Test(.enabled(if: enabled)) func writeCorpus() throws {
        let f = try #require(FuzzFixtures.shared)
        var seeds = Seeds(f: f)
        let all: [String: [String: [UInt8]]] = [
            "tx-binary": try seeds.binaryTransactions(),
            "tx-batch": try seeds.batches(),
            "tx-json": try seeds.jsonTransactions(),
            "quant-json": try seeds.quants(),
            "quant-header": seeds.headers(),
            "bang": try seeds.bangs(),
            "registration": seeds.registrations(),
            "membership-change": seeds.membershipChanges(),
            "lock-envelope": try seeds.envelopes(),
            "key-file": try seeds.keyFiles(),
            "payload-schema": seeds.schemas(),
            "read-proof": seeds.readProofs(),
            "spec-file": try seeds.specFiles(),
        ]
        #expect(Set(all.keys) == Set(FuzzTargets.all.map(\.name)))
        for (target, files) in all {
            let folder = FuzzCorpusTests.root.appendingPathComponent("Fuzz/Corpus/\(target)")
            try? FileManager.default.removeItem(at: folder)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, bytes) in files { try Data(bytes).write(to: folder.appendingPathComponent(name)) }
        }
    }
}

/// The seeds of each target, by file name.
struct Seeds {
    let f: FuzzFixtures
    private var counter: UInt8 = 0
    private var clock = FuzzFixtures.now.milliseconds - 30_000

    init(f: FuzzFixtures) { self.f = f }

    /// A deterministic, distinct nonce per transaction.
    private mutating func nonce() -> Nonce {
        counter &+= 1
        return Nonce(unchecked: [UInt8](repeating: counter, count: Nonce.byteCount))
    }

    mutating func tx(
        _ payload: [UInt8], contentType: String = "text/plain", by key: SigningKey? = nil, chain: Bang? = nil,
        timestamp: UInt64? = nil
    ) -> Transaction {
        clock += 1
        let signer = key ?? f.writer
        return Transaction(
            signing: .init(
                chain: (chain ?? f.powBang).id, sender: signer.publicKey, nonce: nonce(),
                timestamp: Timestamp(milliseconds: timestamp ?? clock), contentType: contentType, payload: payload),
            with: signer)
    }

    mutating func text(_ s: String) -> Transaction { tx(Array(s.utf8)) }
    mutating func json(_ s: String, chain: Bang? = nil) -> Transaction { tx(Array(s.utf8), contentType: "application/json", chain: chain) }

    func envelope(_ plaintext: String, chain: Bang? = nil, to target: LockTarget? = nil) throws -> Lock {
        try Lock.seal(
            Array(plaintext.utf8), contentType: "application/json", chain: (chain ?? f.powBang).id, sender: f.writer.publicKey,
            to: target ?? .recipients([f.reader.publicKey]))
    }

    func proposal(_ action: MembershipChange.Action, _ member: PublicKey, _ roles: Role, chain: Bang, approvers: [SigningKey])
        -> MembershipProposal
    {
        let change = MembershipChange(
            chain: chain.id, action: action, member: member, roles: roles,
            nonce: Nonce(unchecked: [UInt8](repeating: roles.rawValue &+ action.rawValue, count: Nonce.byteCount)))
        return MembershipProposal(change: change, approvals: approvers.map { Approval(approving: change, with: $0) })
    }

    // MARK: Transactions

    mutating func someTransactions() throws -> [String: Transaction] {
        var flipped = text("signature flipped").encoded
        flipped[flipped.count - 1] ^= 1
        return [
            "text": text("hello"),
            "empty-payload": tx([], contentType: "application/octet-stream"),
            "json-schema-ok": json(#"{"temperature":21.5,"unit":"C","id":"probe-1","tags":["a"],"meta":{"ok":true}}"#),
            "json-schema-broken": json(#"{"temperature":99,"unit":"K","extra":1}"#),
            "json-invalid": json(#"{"temperature":"#),
            "json-locked": json(#"{"pin":"qbc-lock:v1:\#(Base64.encode(try envelope("1234").encoded))"}"#),
            "lock-whole": tx(try envelope("{\"a\":1}").encoded, contentType: Lock.contentType),
            "membership": tx(
                proposal(.grant, f.reader.publicKey, .writer, chain: f.powBang, approvers: [f.admin]).encoded,
                contentType: MembershipChange.contentType, by: f.admin),
            "far-future": tx(Array("late".utf8), timestamp: UInt64.max),
            "too-old": tx(Array("early".utf8), timestamp: 0),
            "bad-content-type": tx(Array("x".utf8), contentType: "text/\u{7f}plain"),
            "poa-chain": json(#"{"n":1}"#, chain: f.poaBang),
            "bad-signature": try Transaction(decoding: flipped, limits: .standard),
        ]
    }

    mutating func binaryTransactions() throws -> [String: [UInt8]] {
        var out = try someTransactions().mapValues(\.encoded)
        let valid = text("to be cut").encoded
        out["truncated"] = Array(valid.dropLast(10))
        out["trailing"] = valid + [0]
        // Claims a 16 MiB payload: past the standard limit, within the ceiling, and truncated.
        var big = tx(Array("x".utf8)).encoded
        let lengthAt = 10 + 32 + 32 + 16 + 8 + 1 + "text/plain".utf8.count
        big.replaceSubrange(lengthAt..<lengthAt + 4, with: [0x01, 0x00, 0x00, 0x00])
        out["payload-length-16mib"] = big
        return out.keyed(".bin")
    }

    mutating func batches() throws -> [String: [UInt8]] {
        let txs = Array(try someTransactions().sorted { $0.key < $1.key }.map(\.value))
        var claimsMore = Transaction.encodeBatch(Array(txs.prefix(2)))
        claimsMore[3] = 3
        var tooMany = Transaction.encodeBatch([])
        tooMany.replaceSubrange(0..<4, with: [0, 0, 0x27, 0x11])
        return [
            "empty": Transaction.encodeBatch([]),
            "one": Transaction.encodeBatch([txs[0]]),
            "three": Transaction.encodeBatch(Array(txs.prefix(3))),
            "all": Transaction.encodeBatch(txs),
            "count-too-high": claimsMore,
            "count-10001": tooMany,
            "duplicate": Transaction.encodeBatch([txs[1], txs[1]]),
        ].keyed(".bin")
    }

    mutating func jsonTransactions() throws -> [String: [UInt8]] {
        var out = try someTransactions().mapValues { WireJSON.encode(TransactionJSON($0)) }
        let one = TransactionJSON(text("json"))
        var unsigned = one
        unsigned.signature = nil
        var wrongID = one
        wrongID.id = String(repeating: "0", count: 64)
        var noID = one
        noID.id = nil
        out["unsigned"] = WireJSON.encode(unsigned)
        out["wrong-id"] = WireJSON.encode(wrongID)
        out["no-id"] = WireJSON.encode(noID)
        out["array"] = WireJSON.encode([one, noID])
        out["negative-timestamp"] = Array(String(decoding: WireJSON.encode(one), as: UTF8.self)
            .replacingOccurrences(of: "\"timestamp\":", with: "\"timestamp\":-").utf8)
        out["unknown-field"] = Array(#"{"chain":"00","extra":1}"#.utf8)
        return out.keyed(".json")
    }

    // MARK: Quants

    func header(on bang: Bang, height: UInt64, previous: Hash, transactions: [Transaction], proposer: SigningKey? = nil,
                timestamp: UInt64 = FuzzFixtures.now.milliseconds - 10_000, nonce: UInt64 = 0) -> QuantHeader {
        let rules = bang.rules
        var header = QuantHeader(
            chain: bang.id, height: height, previous: previous, timestamp: Timestamp(milliseconds: timestamp),
            merkleRoot: Merkle.root(transactions.map(\.id)), transactionCount: UInt32(transactions.count),
            proposer: (proposer ?? f.nodes[0]).publicKey, difficultyBits: FuzzFixtures.difficultyBits, nonce: nonce)
        if let engine = rules.consensus.engine as? ProofOfAuthorityEngine {
            let inTurn = ProofOfAuthorityEngine.inTurn(at: height, membership: rules.membership)
            let signer = proposer ?? f.nodes.first { $0.publicKey == inTurn } ?? f.nodes[0]
            header.proposer = signer.publicKey
            header.difficultyBits = signer.publicKey == inTurn ? ProofOfAuthorityEngine.inTurnWeight : ProofOfAuthorityEngine.outOfTurnWeight
            return engine.seal(header, with: signer, worker: 0, of: 1, shouldStop: { false }) ?? header
        }
        return ProofOfWork.mine(header) ?? header
    }

    func quantJSON(_ selector: UInt8, _ header: QuantHeader, _ transactions: [Transaction]) -> [UInt8] {
        let json = QuantJSON(
            header: QuantHeaderJSON(header: header, cumulativeWork: 16, cumulativeTransactions: Int64(transactions.count)),
            transactions: transactions.map(TransactionJSON.init))
        return [selector] + WireJSON.encode(json)
    }

    mutating func quants() throws -> [String: [UInt8]] {
        let pow = f.powBang
        let poa = f.poaBang
        let txs = [text("q1"), json(#"{"temperature":1}"#)]
        let poaTxs = [json(#"{"n":2}"#, chain: poa), json(#"{"n":3}"#, chain: poa)]
        let change = tx(
            proposal(.grant, f.reader.publicKey, .authority, chain: poa, approvers: [f.admin, f.admin2]).encoded,
            contentType: MembershipChange.contentType, by: f.admin, chain: poa)
        let powEmpty = header(on: pow, height: 1, previous: pow.id, transactions: [])
        let powFull = header(on: pow, height: 1, previous: pow.id, transactions: txs)
        let poaFull = header(on: poa, height: 1, previous: poa.id, transactions: poaTxs)
        let poaChange = header(on: poa, height: 1, previous: poa.id, transactions: [change])
        let outOfTurn = header(on: poa, height: 1, previous: poa.id, transactions: [], proposer: f.nodes[2])
        // Above a made-up parent (selector bit 1): height 5 retargets the proof-of-work chain.
        let powHigh = header(on: pow, height: 5, previous: Hash.blake2b([5]), transactions: txs)
        let poaHigh = header(on: poa, height: 7, previous: Hash.blake2b([7]), transactions: poaTxs)
        var wrongCount = powFull
        wrongCount.transactionCount = 3
        return [
            "pow-empty": quantJSON(0, powEmpty, []),
            "pow-two": quantJSON(0, powFull, txs),
            "poa-two": quantJSON(1, poaFull, poaTxs),
            "poa-membership": quantJSON(1, poaChange, [change]),
            "poa-out-of-turn": quantJSON(1, outOfTurn, []),
            "pow-derived-parent": quantJSON(2, powHigh, txs),
            "poa-derived-parent": quantJSON(3, poaHigh, poaTxs),
            "pow-wrong-engine": quantJSON(1, powFull, txs),
            "pow-count-mismatch": quantJSON(0, wrongCount, txs),
        ].keyed(".json")
    }

    func headers() -> [String: [UInt8]] {
        let poa = f.poaBang
        let signer = f.nodes[1]
        let a = header(on: poa, height: 2, previous: Hash.blake2b([1]), transactions: [], proposer: signer)
        // Evidence is two different headers by one authority on the same parent (D48).
        let b = header(on: poa, height: 2, previous: Hash.blake2b([1]), transactions: [], proposer: signer,
                       timestamp: FuzzFixtures.now.milliseconds - 9_000)
        let otherParent = header(on: poa, height: 2, previous: Hash.blake2b([2]), transactions: [], proposer: signer)
        let other = header(on: poa, height: 3, previous: Hash.blake2b([2]), transactions: [], proposer: signer)
        let pow = header(on: f.powBang, height: 1, previous: f.powBang.id, transactions: [])
        func pair(_ x: QuantHeader, _ y: QuantHeader) -> [UInt8] {
            let first = x.encoded
            return [UInt8(first.count >> 8), UInt8(first.count & 0xff)] + first + y.encoded
        }
        return [
            "pow-header": pow.encoded,
            "poa-header": a.encoded,
            "equivocation": pair(a, b),
            "not-equivocation-height": pair(a, other),
            "not-equivocation-parent": pair(a, otherParent),
            "same-header": pair(a, a),
            "pow-pair": pair(pow, pow),
            "evidence-json": WireJSON.encode(["first": Hex.encode(a.encoded), "second": Hex.encode(b.encoded)]),
            "bad-seal-flag": Array(pow.signingBytes) + [2],
        ].keyed(".bin")
    }

    // MARK: Bangs and governance

    func bangs() throws -> [String: [UInt8]] {
        var rules = f.powBang.rules
        rules.name = "schema-fork"
        rules.payload = f.schemaRules
        rules.fork = ForkPoint(parent: f.poaBang.id, height: 3, hash: Hash.blake2b([3]))
        rules.leap = LeapPolicy(intervalMilliseconds: 500, threshold: 100)
        let schemaFork = Bang(rules: rules, timestamp: FuzzFixtures.bangTime, creator: f.admin)
        rules.name = "locked"
        rules.payload = f.lockedRules
        rules.fork = nil
        rules.readersOnly = true
        let locked = Bang(rules: rules, timestamp: FuzzFixtures.bangTime, creator: f.admin)
        let byWriter = Bang(rules: f.powBang.rules, timestamp: FuzzFixtures.bangTime, creator: f.writer)
        var badSignature = f.poaBang.encoded
        badSignature[badSignature.count - 1] ^= 1
        return [
            "pow.bin": f.powBang.encoded,
            "poa.bin": f.poaBang.encoded,
            "schema-fork.bin": schemaFork.encoded,
            "locked-readers.bin": locked.encoded,
            "creator-not-admin.bin": byWriter.encoded,
            "bad-signature.bin": badSignature,
            "truncated.bin": Array(f.powBang.encoded.dropLast(70)),
            "submission-pow.json": WireJSON.encode(BangSubmissionJSON(f.powBang)),
            "submission-schema.json": WireJSON.encode(BangSubmissionJSON(schemaFork)),
            "submission-not-hex.json": WireJSON.encode(BangSubmissionJSON(bang: "zz")),
        ]
    }

    func membershipChanges() -> [String: [UInt8]] {
        let pow = f.powBang
        let poa = f.poaBang
        let newcomer = f.reader.publicKey
        var noApprovals = proposal(.grant, newcomer, .writer, chain: pow, approvers: []).encoded
        noApprovals[noApprovals.count - 1] = 0
        return [
            "pow-grant-writer": [0] + proposal(.grant, newcomer, .writer, chain: pow, approvers: [f.admin]).encoded,
            "pow-revoke-writer": [0] + proposal(.revoke, f.writer.publicKey, .writer, chain: pow, approvers: [f.admin]).encoded,
            "pow-revoke-last-admin": [0] + proposal(.revoke, f.admin.publicKey, .admin, chain: pow, approvers: [f.admin]).encoded,
            "poa-grant-authority": [1] + proposal(.grant, newcomer, [.authority, .node], chain: poa, approvers: [f.admin, f.admin2]).encoded,
            "poa-revoke-authorities": [1] + proposal(.revoke, f.nodes[0].publicKey, .authority, chain: poa, approvers: [f.admin, f.admin2]).encoded,
            "poa-one-approval": [1] + proposal(.grant, newcomer, .writer, chain: poa, approvers: [f.admin]).encoded,
            "pow-sent-by-writer": [2] + proposal(.grant, newcomer, .writer, chain: pow, approvers: [f.admin]).encoded,
            "unknown-role-bits": [0] + proposal(.grant, newcomer, Role(rawValue: 0xe0), chain: pow, approvers: [f.admin]).encoded,
            "wrong-chain": [0] + proposal(.grant, newcomer, .writer, chain: poa, approvers: [f.admin]).encoded,
            "approval-by-writer": [0] + proposal(.grant, newcomer, .writer, chain: pow, approvers: [f.writer]).encoded,
            "no-approvals": [0] + noApprovals,
        ].keyed(".bin")
    }

    // MARK: Network

    func registrations() -> [String: [UInt8]] {
        let now = FuzzFixtures.now
        func json(_ key: SigningKey, address: String = "http://10.0.0.5:5001", chains: [ChainID]? = nil, at: Timestamp = now)
            -> [UInt8]
        {
            WireJSON.encode(RegistrationJSON(Registration(key: key, address: address, chains: chains ?? [f.powBang.id], timestamp: at)))
        }
        /// A peer request's envelope as the target cuts it: key, timestamp, signature, method, path, body.
        func request(_ key: SigningKey, method: String, path: String, body: [UInt8], at: Timestamp = now) -> [UInt8] {
            let signature = PeerRequest.sign(key: key, timestamp: at, method: method, path: path, body: body)
            var w = CanonicalWriter()
            w.fixed(key.publicKey.bytes)
            w.u64(at.milliseconds)
            w.fixed(signature.bytes)
            w.string8(method)
            w.string16(path)
            w.fixed(body)
            return w.bytes
        }
        let pushed = Array(#"{"header":{}}"#.utf8)
        return [
            "node-pow.json": json(f.nodes[0]),
            "node-both.json": json(f.nodes[1], address: "https://node2.example:443", chains: [f.powBang.id, f.poaBang.id]),
            "stale.json": json(f.nodes[2], at: Timestamp(milliseconds: now.milliseconds - 10 * 60_000)),
            "not-a-node.json": json(f.writer),
            "unknown-chain.json": json(f.nodes[0], chains: [Hash.blake2b([9])]),
            "bad-address.json": json(f.nodes[0], address: "ftp://x"),
            "duplicate-chains.json": json(f.nodes[0], chains: [f.powBang.id, f.powBang.id]),
            "peer-get.bin": request(f.nodes[0], method: "GET", path: "/peer/chains/\(f.powBang.id.hex)/tip", body: []),
            "peer-post.bin": request(f.nodes[1], method: "POST", path: "/peer/chains/\(f.poaBang.id.hex)/quants", body: pushed),
            "peer-stale.bin": request(f.nodes[0], method: "GET", path: "/discover", body: [], at: Timestamp(milliseconds: 0)),
        ]
    }

    // MARK: Locks and keys

    func envelopes() throws -> [String: [UInt8]] {
        let holders = [f.reader.publicKey, f.admin.publicKey, f.nodes[0].publicKey]
        let passphrase = LockTarget.passphrase(SecretBytes(utf8: "fuzz"), opsLimit: 1, memLimit: 8192)
        let valid = try envelope("{\"pin\":1}").encoded
        return [
            "recipients": valid,
            "two-recipients": try envelope("{}", to: .recipients(Array(holders.prefix(2)))).encoded,
            "threshold-2-of-3": try envelope("{\"x\":true}", to: .threshold(2, holders)).encoded,
            "passphrase": try envelope("secret", to: passphrase).encoded,
            "other-chain": try envelope("{}", chain: f.poaBang).encoded,
            "truncated": Array(valid.dropLast(5)),
            "trailing": valid + [0],
        ].keyed(".bin")
    }

    func keyFiles() throws -> [String: [UInt8]] {
        var out = [String: [UInt8]]()
        let folder = FuzzCorpusTests.root.appendingPathComponent("keys-example")
        for name in ["admin", "writer1", "reader", "node1"] {
            out["\(name).key"] = Array(try Data(contentsOf: folder.appendingPathComponent("\(name).key")))
        }
        let plain = String(decoding: KeyFile.plaintext(f.writer), as: UTF8.self)
        out["version-2.key"] = Array(plain.replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 2").utf8)
        out["mismatched-public.key"] = Array(plain.replacingOccurrences(of: f.writer.publicKey.hex, with: f.admin.publicKey.hex).utf8)
        out["short-secret.key"] = Array(plain.replacingOccurrences(of: "\"secretKey\" : \"", with: "\"secretKey\" : \"00").utf8)
        out["unknown-field.key"] = Array(plain.replacingOccurrences(of: "\"version\"", with: "\"extra\" : 1, \"version\"").utf8)
        // Encrypted at the lowest cost the format accepts: the fuzzer reads it but never derives a key.
        out["encrypted.key"] = try KeyFile.encrypted(
            f.admin, passphrase: SecretBytes(utf8: "fuzz"), parameters: .init(opsLimit: 1, memLimit: 8192))
        out["not-json.key"] = Array("qbc-key".utf8)
        return out
    }

    // MARK: Schemas, read proofs, specs

    func schemas() -> [String: [UInt8]] {
        func pair(_ schema: String, _ payload: String) -> [UInt8] { Array(schema.utf8) + [0] + Array(payload.utf8) }
        let fixture = FuzzFixtures.schemaText
        return [
            "fixture-ok": pair(fixture, #"{"temperature":20,"unit":"C","id":"a-1","count":3,"tags":["x"],"meta":null}"#),
            "fixture-broken": pair(fixture, #"{"temperature":"hot","id":"UPPER","count":1.5,"meta":{"a":1}}"#),
            "pattern": pair(#"{"type":"string","pattern":"^[A-Z]{2}-\\d+$"}"#, #""AB-12""#),
            "enum-const": pair(#"{"enum":[1,"a",null,{"k":[true]}],"const":"a"}"#, #""a""#),
            "nested-items": pair(#"{"type":"array","items":{"type":"array","items":{"type":"integer","minimum":0}}}"#, "[[1,2],[3.5]]"),
            "boolean-schemas": pair(#"{"properties":{"a":true,"b":false},"additionalProperties":false}"#, #"{"a":1,"b":2}"#),
            "lengths": pair(#"{"type":"string","minLength":2,"maxLength":4}"#, #""h\u00e9llo""#),
            "required": pair(#"{"type":"object","required":["a","b"]}"#, #"{"a":1}"#),
            "annotations": pair(#"{"$schema":"x","title":"t","description":"d","type":["integer","null"]}"#, "null"),
            "unknown-keyword": pair(#"{"oneOf":[]}"#, "1"),
            "bad-pattern": pair(#"{"pattern":"("}"#, #""(""#),
            "not-json-payload": pair(#"{"type":"object"}"#, "{"),
        ].keyed(".bin")
    }

    func readProofs() -> [String: [UInt8]] {
        let chain = f.poaBang.id
        let nonce = [UInt8](repeating: 0x5a, count: 32)
        let path = "/chains/\(chain.hex)/quants?from=1&limit=10"
        func proof(_ key: SigningKey, method: String = "GET", path: String = path, nonce: [UInt8] = nonce) -> [UInt8] {
            let signature = ReadProof.sign(key: key, chain: chain, nonce: nonce, method: method, path: path)
            return Array([key.publicKey.hex, Hex.encode(nonce), signature.hex, method, path].joined(separator: "\n").utf8)
        }
        var wrongPath = proof(f.reader)
        wrongPath.append(contentsOf: Array("x".utf8))
        return [
            "reader-ok": proof(f.reader),
            "reader-tx": proof(f.reader, path: "/chains/\(chain.hex)/tx/\(String(repeating: "ab", count: 32))"),
            "not-a-reader": proof(f.writer),
            "short-nonce": proof(f.reader, nonce: [1, 2, 3]),
            "altered-path": wrongPath,
            "bad-hex": Array("zz\n00\n00\nGET\n/".utf8),
        ].keyed(".txt")
    }

    func specFiles() throws -> [String: [UInt8]] {
        var out = [String: [UInt8]]()
        let config = FuzzCorpusTests.root.appendingPathComponent("config")
        for name in (try FileManager.default.contentsOfDirectory(atPath: config.path)).sorted() where name.hasSuffix(".json") {
            let data = try Data(contentsOf: config.appendingPathComponent(name))
            out["config-\(name)"] = Array(data)
            if let object = try JSONSerialization.jsonObject(with: data) as? [String: Any], let chain = object["chain"] {
                out["chain-\(name)"] = Array(try JSONSerialization.data(withJSONObject: chain, options: [.sortedKeys]))
            }
        }
        let members = #"[{"key":"\#(f.admin.publicKey.hex)","roles":["admin"]},{"key":"\#(f.nodes[0].publicKey.hex)","roles":["node","authority"]},{"key":"\#(f.writer.publicKey.hex)","roles":["writer"]}]"#
        out["poa.json"] = Array(#"{"name":"orders","consensus":{"engine":"poa","outOfTurnDelayMilliseconds":2000},"members":\#(members),"adminQuorum":1,"leap":{"intervalMilliseconds":500,"threshold":10}}"#.utf8)
        out["schema.json"] = Array(#"{"name":"orders","members":\#(members),"payload":{"contentType":"application/json","schema":\#(FuzzFixtures.schemaText)}}"#.utf8)
        out["locked-readers.json"] = Array(#"{"name":"secrets","members":\#(members),"readAccess":"readers","payload":{"lockedFields":["pin","secret"]}}"#.utf8)
        out["retarget.json"] = Array(#"{"name":"work","consensus":{"engine":"pow","difficultyBits":6,"targetIntervalMilliseconds":1000,"retargetWindow":10},"limits":{"maxPayloadBytes":1024,"maxTransactionsPerQuant":50,"maxQuantBytes":65536}}"#.utf8)
        out["fork-changes.json"] = Array(#"{"name":"dev-b"}"#.utf8)
        out["unknown-field.json"] = Array(#"{"name":"x","colour":"red"}"#.utf8)
        out["bad-engine.json"] = Array(#"{"consensus":{"engine":"pos"}}"#.utf8)
        return out
    }
}

extension Dictionary where Key == String {
    /// The same values under names with `suffix` appended.
    fileprivate func keyed(_ suffix: String) -> [String: Value] {
        Dictionary(uniqueKeysWithValues: map { ("\($0.key)\(suffix)", $0.value) })
    }
}
