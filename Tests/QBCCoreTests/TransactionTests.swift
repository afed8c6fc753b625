import QBCCore
import QBCCrypto
import QBCTestSupport
import Testing

@Suite struct TransactionTests {
    let key = TestKeys.key(7)
    let chain = Hash.blake2b(Array("test chain".utf8))
    let now = Timestamp(milliseconds: 1_800_000_000_000)

    func make(payload: [UInt8] = Array(#"{"a":1}"#.utf8), timestamp: Timestamp? = nil) -> Transaction {
        let body = Transaction.Body(
            chain: chain, sender: key.publicKey, nonce: Nonce(unchecked: [UInt8](repeating: 9, count: 16)),
            timestamp: timestamp ?? now, contentType: "application/json", payload: payload)
        return Transaction(signing: body, with: key)
    }

    @Test func signedTransactionVerifiesAndRoundTrips() throws {
        let tx = make()
        #expect(tx.hasValidSignature)
        #expect(tx.id == Hash.blake2b(tx.signingBytes))
        let decoded = try Transaction(decoding: tx.encoded, limits: .standard)
        #expect(decoded == tx)
        #expect(decoded.payload == tx.payload)
        #expect(decoded.hasValidSignature)
    }

    /// A batch's decoder shares a field with earlier transactions when its bytes are equal and
    /// hashes each id from the bytes it read: every field and id must still be the transaction's
    /// own, when neighbours differ in the last byte of the chain, have other senders (more than it
    /// remembers), or a content type of the same length differing in one letter.
    @Test func batchDecodingKeepsEachTransactionsOwnFieldsAndID() throws {
        // More senders than the decoder remembers, interleaved, and runs of one.
        let senders = (7...17).map { TestKeys.key(UInt8($0)) }
        var otherChain = chain.bytes
        otherChain[31] ^= 1
        let chains = [chain, Hash(unchecked: otherChain)]
        let types = ["application/json", "application/jsoN", "text/plain", "application/json"]
        var batch = [Transaction]()
        func signer(_ index: Int) -> SigningKey { index < 60 ? senders[index % senders.count] : senders[(index / 5) % 2] }
        for index in 0..<100 {
            let body = Transaction.Body(
                chain: chains[(index / 3) % 2], sender: signer(index).publicKey,
                nonce: Nonce(unchecked: [UInt8](repeating: UInt8(index), count: 16)), timestamp: now,
                contentType: types[(index / 2) % types.count], payload: Array("\(index)".utf8))
            batch.append(Transaction(signing: body, with: signer(index)))
        }
        let decoded = try Transaction.decodeBatch(Transaction.encodeBatch(batch), limits: .standard, maxCount: 100)
        #expect(decoded.count == batch.count)
        for (got, sent) in zip(decoded, batch) {
            #expect(got.body == sent.body)
            #expect(got.signature == sent.signature)
            #expect(got.id == sent.id)
            #expect(got.id == Hash.blake2b(got.signingBytes))
            #expect(got.encoded == sent.encoded)
        }
    }

    @Test func everyFieldIsCoveredBySignatureAndID() {
        let tx = make()
        let b = tx.body
        let other = Hash.blake2b([1])
        let variants: [Transaction.Body] = [
            .init(chain: other, sender: b.sender, nonce: b.nonce, timestamp: b.timestamp, contentType: b.contentType, payload: b.payload),
            .init(chain: b.chain, sender: TestKeys.key(8).publicKey, nonce: b.nonce, timestamp: b.timestamp, contentType: b.contentType, payload: b.payload),
            .init(chain: b.chain, sender: b.sender, nonce: .random(), timestamp: b.timestamp, contentType: b.contentType, payload: b.payload),
            .init(chain: b.chain, sender: b.sender, nonce: b.nonce, timestamp: Timestamp(milliseconds: 1), contentType: b.contentType, payload: b.payload),
            .init(chain: b.chain, sender: b.sender, nonce: b.nonce, timestamp: b.timestamp, contentType: "text/plain", payload: b.payload),
            .init(chain: b.chain, sender: b.sender, nonce: b.nonce, timestamp: b.timestamp, contentType: b.contentType, payload: b.payload + [0x20]),
        ]
        for body in variants {
            let forged = Transaction(body: body, signature: tx.signature)
            #expect(!forged.hasValidSignature)
            #expect(forged.id != tx.id)
        }
    }

    @Test func everyEncodedByteIsProtected() {
        let tx = make()
        let encoded = tx.encoded
        for index in encoded.indices {
            var tampered = encoded
            tampered[index] ^= 0x01
            // A flipped byte either fails to decode or yields a transaction whose signature fails.
            if let decoded = try? Transaction(decoding: tampered, limits: .standard) {
                #expect(!decoded.hasValidSignature, "byte \(index) was not protected")
            }
        }
    }

    @Test func truncationAndTrailingBytesAreRefused() {
        let encoded = make().encoded
        for length in [0, 5, 10, 60, encoded.count - 1] {
            #expect(throws: CanonicalReader.DecodingError.self) {
                try Transaction(decoding: Array(encoded.prefix(length)), limits: .standard)
            }
        }
        #expect(throws: CanonicalReader.DecodingError.trailingBytes(1)) {
            try Transaction(decoding: encoded + [0], limits: .standard)
        }
    }

    @Test func decodingRefusesOversizePayloadBeforeReadingIt() {
        let tx = make(payload: [UInt8](repeating: 0x41, count: 100))
        var limits = TransactionLimits.standard
        limits.maxPayloadBytes = 99
        #expect(throws: CanonicalReader.DecodingError.self) { try Transaction(decoding: tx.encoded, limits: limits) }
    }

    @Test func structureChecks() throws {
        let limits = TransactionLimits.standard
        try TransactionRules.checkStructure(make(), limits: limits, now: now)
        let cases: [(Transaction, RuleError.Code)] = [
            (make(payload: [UInt8](repeating: 0x20, count: limits.maxPayloadBytes + 1)), .payloadTooLarge),
            (make(timestamp: Timestamp(milliseconds: now.milliseconds - limits.maxAgeMilliseconds - 1)), .timestampTooOld),
            (make(timestamp: Timestamp(milliseconds: now.milliseconds + limits.maxFutureMilliseconds + 1)), .timestampInFuture),
        ]
        for (tx, code) in cases {
            #expect(throws: RuleError.self) { try TransactionRules.checkStructure(tx, limits: limits, now: now) }
            do { try TransactionRules.checkStructure(tx, limits: limits, now: now) } catch { #expect(error.code == code) }
        }
        try TransactionRules.checkStructure(
            make(timestamp: Timestamp(milliseconds: now.milliseconds - limits.maxAgeMilliseconds)), limits: limits, now: now)
        for bad in ["", String(repeating: "a", count: 128), "text/plain\n", "tëxt/plain"] {
            #expect(throws: RuleError(.invalidContentType, "content type must be 1 to 127 printable ASCII characters, e.g. application/json")) {
                try TransactionRules.checkContentType(bad)
            }
        }
        // QBC's own types only as written: another case, parameters or spaces would pass a payload
        // off as one to a client without the node checking it as one.
        for disguised in ["APPLICATION/VND.QBC.LOCK", "application/vnd.qbc.lock; x=1", "application/vnd.qbc.lock ", " application/vnd.qbc.member",
                          "Application/Vnd.Qbc.Read-Key"] {
            #expect(throws: RuleError.self, "\(disguised)") { try TransactionRules.checkContentType(disguised) }
        }
        for fine in ["application/vnd.qbc.lock", "application/vnd.qbc.member", "application/vnd.qbc.read-key", "application/vnd.qbc.other",
                     "APPLICATION/JSON", "application/vnd.qbc", "text/plain; charset=utf-8"] {
            #expect(throws: Never.self, "\(fine)") { try TransactionRules.checkContentType(fine) }
        }
    }

    /// Regression: a timestamp of 2^64 - 1 made the age Int64.min, and negating it trapped.
    @Test func extremeTimestampsAreRefusedNotTrapped() {
        let limits = TransactionLimits.standard
        for (time, code) in [(UInt64.max, RuleError.Code.timestampInFuture), (UInt64(Int64.max) + 1, .timestampInFuture), (0, .timestampTooOld)] {
            do {
                try TransactionRules.checkStructure(make(timestamp: Timestamp(milliseconds: time)), limits: limits, now: now)
                Issue.record("timestamp \(time) was accepted")
            } catch { #expect(error.code == code) }
        }
        let zero = Timestamp(milliseconds: 0)
        #expect(throws: RuleError.self) { try TransactionRules.checkStructure(make(timestamp: Timestamp(milliseconds: .max)), limits: limits, now: zero) }
    }

    @Test func badSignatureMessageSaysHowToSign() {
        let tx = make()
        let forged = Transaction(body: tx.body, signature: TestKeys.key(9).sign(tx.signingBytes))
        do {
            try TransactionRules.checkSignature(forged)
            Issue.record("forged signature accepted")
        } catch {
            #expect(error.code == .badSignature)
            #expect(error.message.contains("qbc tx sign"))
        }
    }

    @Test func timestampDistanceSaturates() {
        #expect(Timestamp(milliseconds: .max).milliseconds(since: Timestamp(milliseconds: 0)) == .max)
        #expect(Timestamp(milliseconds: 0).milliseconds(since: Timestamp(milliseconds: .max)) == .min)
        #expect(Timestamp(milliseconds: 5).milliseconds(since: Timestamp(milliseconds: 7)) == -2)
    }
}

@Suite struct TransactionSizeTests {
    @Test(arguments: [0, 1, 100, 5000])
    func encodedSizeMatchesTheEncoding(_ payloadBytes: Int) {
        let key = TestKeys.key(3)
        let tx = Transaction(
            signing: .init(chain: .zero, sender: key.publicKey, nonce: .random(), timestamp: .init(milliseconds: 1),
                           contentType: "text/plain", payload: [UInt8](repeating: 7, count: payloadBytes)),
            with: key)
        #expect(tx.encodedSize == tx.encoded.count)
    }
}
