import QBCCore
import QBCCrypto
import QBCTestSupport
import Testing

@Suite struct ChainRulesTests {
    @Test func bangRoundTripsAndItsIDIsItsHash() throws {
        let chain = ChainBuilder()
        try chain.bang.check()
        let decoded = try Bang(decoding: chain.bang.encoded)
        #expect(decoded == chain.bang)
        #expect(decoded.id == Hash.blake2b(chain.bang.signingBytes))
        try decoded.check()
    }

    @Test func bangChecks() throws {
        let chain = ChainBuilder()
        var bytes = chain.bang.encoded
        bytes[20] ^= 1
        if let tampered = try? Bang(decoding: bytes) {
            #expect(throws: RuleError.self) { try tampered.check() }
        }
        let notAdmin = Bang(rules: chain.rules, timestamp: chain.clock, creator: chain.writer)
        #expect(throws: RuleError.self) { try notAdmin.check() }
        var noAdmins = chain.rules
        noAdmins.membership = Membership([chain.writer.publicKey: .writer])
        #expect(throws: RuleError.self) { try noAdmins.check() }
        var badName = chain.rules
        badName.name = "Bad Name"
        #expect(throws: RuleError.self) { try badName.check() }
        var hard = chain.rules
        hard.consensus = .proofOfWork(difficultyBits: 41)
        #expect(throws: RuleError.self) { try hard.check() }
        // Windows that would overflow signed millisecond arithmetic are refused at the Bang.
        for window in [UInt64.max, UInt64(Int64.max), TransactionLimits.absoluteMaxWindowMilliseconds + 1] {
            var old = chain.rules
            old.transactionLimits.maxAgeMilliseconds = window
            var skew = chain.rules
            skew.transactionLimits.maxFutureMilliseconds = window
            var quantSkew = chain.rules
            quantSkew.quantLimits.maxFutureMilliseconds = window
            for rules in [old, skew, quantSkew] { #expect(throws: RuleError.self) { try rules.check() } }
        }
    }

    /// A search looks at its stop flag every 4096 hashes: stopping costs at most that many
    /// more, however long the search would take (here 2^64 hashes; none is ever found).
    @Test func aSearchStopsWithin4096HashesOfBeingAsked() {
        let chain = ChainBuilder()
        var header = chain.quant([], parent: nil).header
        header.difficultyBits = 255
        var looks = 0
        let result = ProofOfWork.mine(header, shouldStop: { looks += 1; return looks == 3 })
        #expect(result == nil)
        #expect(looks == 3, "it stopped at the first look after the flag was set, after 3 × 4096 hashes")
    }

    /// Headers and transactions dated at the end of time are refused, never trapped on.
    @Test func extremeTimestampsInQuantsAreRefused() throws {
        var chain = ChainBuilder()
        let parent = QuantRules.Parent(height: 0, hash: chain.bang.id, timestamp: chain.bang.timestamp)
        var header = chain.quant([], parent: nil).header
        header.timestamp = Timestamp(milliseconds: .max)
        header = ProofOfWork.mine(header) ?? header
        #expect(throws: RuleError.self) {
            try QuantRules.checkHeader(header, parent: parent, chain: chain.bang.id, rules: chain.rules, now: chain.clock)
        }
        let late = Transaction(
            signing: .init(chain: chain.bang.id, sender: chain.writer.publicKey, nonce: .random(), timestamp: Timestamp(milliseconds: .max),
                           contentType: "text/plain", payload: [1]),
            with: chain.writer)
        #expect(throws: RuleError.self) {
            try QuantRules.checkBody(chain.quant([late], parent: nil), rules: chain.rules, membership: chain.rules.membership)
        }
        _ = chain.transaction("keeps the builder's clock moving")
    }

    @Test func merkleRootIsOrderSensitiveAndHasNoDuplicationAmbiguity() {
        let ids = (0..<5).map { Hash.blake2b([UInt8($0)]) }
        #expect(Merkle.root([]) == .zero)
        #expect(Merkle.root(ids) != Merkle.root(ids.reversed()))
        #expect(Merkle.root(ids) != Merkle.root(ids + [ids[4]]), "duplicating the last leaf changes the root")
        #expect(Merkle.root([ids[0]]) == Hash.blake2b(DomainTag.merkleLeaf.bytes + ids[0].bytes))
    }

    /// The root is computed in place (one buffer, no array per hash); it must equal the tree as
    /// protocol.md defines it, built here the plain way, at every shape of odd and even levels.
    @Test func merkleRootMatchesThePlainDefinition() {
        func plain(_ ids: [Hash]) -> Hash {
            guard !ids.isEmpty else { return .zero }
            var level = ids.map { Hash.blake2b(DomainTag.merkleLeaf.bytes + $0.bytes) }
            while level.count > 1 {
                level = stride(from: 0, to: level.count, by: 2).map { index in
                    index + 1 < level.count ? Hash.blake2b(DomainTag.merkleNode.bytes + level[index].bytes + level[index + 1].bytes) : level[index]
                }
            }
            return level[0]
        }
        let ids = (0..<70).map { Hash.blake2b([UInt8($0), 7]) }
        for count in 0...ids.count { #expect(Merkle.root(Array(ids.prefix(count))) == plain(Array(ids.prefix(count))), "\(count) leaves") }
    }

    @Test func quantHeaderRoundTripsAt170Bytes() throws {
        var chain = ChainBuilder()
        let quant = chain.quant([chain.transaction("{}")], parent: nil)
        #expect(quant.header.signingBytes.count == 170)
        #expect(quant.header.encoded.count == 171, "no seal under proof of work")
        #expect(try QuantHeader(decoding: quant.header.encoded) == quant.header)
        #expect(quant.hash.leadingZeroBits >= 4)
    }

    @Test func validQuantPassesEveryRule() throws {
        var chain = ChainBuilder()
        let quant = chain.quant([chain.transaction("1"), chain.transaction("2")], parent: nil)
        let parent = QuantRules.Parent(height: 0, hash: chain.bang.id, timestamp: chain.bang.timestamp)
        try QuantRules.checkHeader(quant.header, parent: parent, chain: chain.bang.id, rules: chain.rules, now: chain.clock)
        try QuantRules.checkBody(quant, rules: chain.rules, membership: chain.rules.membership)
    }

    /// Remembering the last few senders answers exactly as the members' table does, whatever the
    /// mix of senders and roles asked.
    @Test func roleChecksAnswerAsTheMembershipDoes() {
        // More senders than it remembers, so some are forgotten and looked up again.
        let keys = (1...12).map { TestKeys.key($0).publicKey }
        var roles = [PublicKey: Role]()
        for (index, key) in keys.enumerated() where index % 4 != 3 { roles[key] = [[.admin], [.writer], [.writer, .reader]][index % 4] }
        let membership = Membership(roles)
        var check = RoleCheck(membership)
        var generator = SystemRandomNumberGenerator()
        let asked: [Role] = [.writer, .admin, .reader, [.writer, .reader], []]
        for _ in 0..<2_000 {
            // Runs of one sender, as a client streams, and switches between them.
            let key = PublicKey(unchecked: keys[Int.random(in: 0..<keys.count, using: &generator)].bytes)
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let role = asked[Int.random(in: 0..<asked.count, using: &generator)]
                #expect(check.holds(key, role) == membership.holds(key, role))
            }
        }
    }

    /// The lists behind role checks and shared decoded fields keep the newest values, at most
    /// their capacity, and none at capacity 0.
    @Test func recentValuesKeepTheNewestUpToTheirCapacity() {
        var recent = RecentValues<Int>(capacity: 3)
        for value in 1...5 { recent.remember(value) }
        #expect(recent.first { $0 == 5 } == 5)
        #expect(recent.first { $0 == 3 } == 3)
        #expect(recent.first { $0 == 2 } == nil, "the oldest go first")
        #expect(recent.first { $0 > 0 } == 5, "newest first")
        var none = RecentValues<Int>(capacity: 0)
        none.remember(1)
        #expect(none.first { _ in true } == nil)
    }

    @Test func eachBrokenRuleHasItsCode() throws {
        var chain = ChainBuilder(maxTransactions: 3)
        let txs = [chain.transaction("1"), chain.transaction("2")]
        let good = chain.quant(txs, parent: nil)
        let parent = QuantRules.Parent(height: 0, hash: chain.bang.id, timestamp: chain.bang.timestamp)
        func headerCode(_ mutate: (inout QuantHeader) -> Void, remine: Bool = true) -> RuleError.Code? {
            var header = good.header
            mutate(&header)
            if remine { header = ProofOfWork.mine(header) ?? header }
            do {
                try QuantRules.checkHeader(header, parent: parent, chain: chain.bang.id, rules: chain.rules, now: chain.clock)
                return nil
            } catch { return error.code }
        }
        #expect(headerCode { $0.height = 2 } == .wrongHeight)
        #expect(headerCode { $0.previous = .zero } == .wrongPrevious)
        #expect(headerCode { $0.chain = .zero } == .wrongChain)
        #expect(headerCode { $0.timestamp = Timestamp(milliseconds: 5) } == .badTimestamp)
        #expect(headerCode { $0.timestamp = Timestamp(milliseconds: chain.clock.milliseconds + 3_600_000) } == .badTimestamp)
        #expect(headerCode { $0.difficultyBits = 1 } == .badProof)
        // Find a nonce whose hash misses the difficulty.
        #expect(headerCode({ header in
            var n: UInt64 = 0
            repeat { header.nonce = n; n += 1 } while header.hash.leadingZeroBits >= 4
        }, remine: false) == .badProof)

        func bodyCode(_ quant: Quant) -> RuleError.Code? {
            do {
                try QuantRules.checkBody(quant, rules: chain.rules, membership: chain.rules.membership)
                return nil
            } catch { return error.code }
        }
        #expect(bodyCode(Quant(header: good.header, transactions: [txs[0]])) == .countMismatch)
        #expect(bodyCode(Quant(header: good.header, transactions: txs.reversed())) == .badMerkleRoot)
        #expect(bodyCode(chain.quant([txs[0], txs[0]], parent: nil)) == .duplicateInQuant)
        #expect(bodyCode(chain.quant([chain.transaction("x", by: chain.node)], parent: nil)) == .notAuthorized)
        #expect(bodyCode(chain.quant((0..<4).map { chain.transaction("\($0)") }, parent: nil)) == .quantTooLarge)
    }
}

@Suite struct RegistrationTests {
    let key = TestKeys.key(3)
    let chain = Hash.blake2b(Array("c".utf8))
    let now = Timestamp(milliseconds: 1_800_000_000_000)

    func membership(_ roles: Role) -> (ChainID) -> Membership? {
        { id in id == self.chain ? Membership([self.key.publicKey: roles]) : nil }
    }

    @Test func admittedOnlyWithTheNodeRoleAFreshTimestampAndAValidSignature() throws {
        let registration = Registration(key: key, address: "http://127.0.0.1:5001", chains: [chain], timestamp: now)
        try registration.checkAdmission(now: now, membership: membership(.node))
        func code(_ r: Registration, _ roles: Role = .node, at time: Timestamp? = nil) -> RuleError.Code? {
            do {
                try r.checkAdmission(now: time ?? now, membership: membership(roles))
                return nil
            } catch { return error.code }
        }
        #expect(code(registration, .writer) == .notAuthorized)
        #expect(code(registration, at: Timestamp(milliseconds: now.milliseconds + 6 * 60_000)) == .timestampTooOld)
        let moved = Registration(node: key.publicKey, address: "http://evil:1", chains: [chain], timestamp: now, signature: registration.signature)
        #expect(code(moved) == .badSignature)
        let other = Registration(key: key, address: "http://127.0.0.1:5001", chains: [.zero], timestamp: now)
        #expect(code(other) == .notAuthorized)
        #expect(code(Registration(key: key, address: "ftp://x", chains: [chain], timestamp: now)) == .invalidRegistration)
    }

    /// Issue 12 (second round): addresses with a user, a header break, port 0 or 99999 were
    /// admitted and relayed, and nodes called them.
    @Test func onlyPlainHTTPAddressesAreAdmitted() {
        func admitted(_ address: String) -> Bool {
            (try? Registration(key: key, address: address, chains: [chain], timestamp: now).checkSignature()) != nil
        }
        for good in [
            "http://127.0.0.1:5001", "https://node-1.example.org", "http://[::1]:5000", "http://host/", "http://a.b:65535",
            "http://10.0.0.255:1", "http://0.0.0.0:80", "http://node1:5001", "http://" + String(repeating: "a", count: 63) + ".io",
        ] {
            #expect(admitted(good), "\(good)")
        }
        let bad = [
            "http://127.0.0.1:6001\r\nX: y", "http://h:99999", "http://h:0", "http://user:pass@h:1", "http://h:1/path",
            "http://h:1?q", "http://", "http://h:", "http://h :1", "http://[::1", "http://[zz]:1", "ftp://h",
            "http://" + String(repeating: "a", count: 250),
            // From the second attack: not DNS names or IPv4 addresses any resolver takes.
            "http://999.1.1.1:1", "http://1.2.3:1", "http://1.2.3.4.5:1", "http://010.0.0.1:1", "http://h:01",
            "http://" + String(repeating: "a", count: 64) + ".io", "http://-h.io", "http://h-.io", "http://a..b", "http://a.b.",
            "http://.a", "http://a.123",
        ]
        for address in bad { #expect(!admitted(address), "\(address.debugDescription)") }
    }

    @Test func peerRequestsBindMethodPathBodyAndTime() throws {
        let body = Array(#"{"x":1}"#.utf8)
        let signature = PeerRequest.sign(key: key, timestamp: now, method: "POST", path: "/peer/quants", body: body)
        try PeerRequest.check(node: key.publicKey, timestamp: now, signature: signature, method: "POST", path: "/peer/quants", body: body, now: now)
        let variants: [(String, String, [UInt8], Timestamp, RuleError.Code)] = [
            ("GET", "/peer/quants", body, now, .badSignature),
            ("POST", "/peer/other", body, now, .badSignature),
            ("POST", "/peer/quants", body + [0x20], now, .badSignature),
            ("POST", "/peer/quants", body, Timestamp(milliseconds: now.milliseconds - 31_000), .timestampTooOld),
        ]
        for (method, path, bytes, time, expected) in variants {
            do {
                try PeerRequest.check(node: key.publicKey, timestamp: now, signature: signature, method: method, path: path, body: bytes, now: time)
                Issue.record("accepted \(method) \(path)")
            } catch { #expect(error.code == expected) }
        }
    }
}
