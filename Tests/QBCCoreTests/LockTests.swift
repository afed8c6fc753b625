import Foundation
import QBCCore
@testable import QBCCrypto
import QBCTestSupport
import Testing

@Suite struct LockTests {
    let chain = Hash.blake2b(Array("chain".utf8))
    let sender = TestKeys.key(9).publicKey
    let holders = (10..<15).map(TestKeys.key)
    let plaintext = Array(#"{"secret":"MARKER-7f3a"}"#.utf8)

    func lock(_ target: LockTarget) throws -> Lock {
        try Lock.seal(plaintext, contentType: "application/json", chain: chain, sender: sender, to: target)
    }

    @Test func aRecipientUnlocksAndANonRecipientCannot() throws {
        let locked = try lock(.recipients(holders.prefix(3).map(\.publicKey)))
        let decoded = try Lock(decoding: locked.encoded)
        #expect(try decoded.open(with: [holders[1]], chain: chain, sender: sender) == plaintext)
        #expect(throws: LockError.notARecipient) { try decoded.open(with: [holders[4]], chain: chain, sender: sender) }
        #expect(!occurs(Array("MARKER-7f3a".utf8), in: locked.encoded))
    }

    @Test func aFlippedByteAnywhereIsDetected() throws {
        let encoded = try lock(.recipients([holders[0].publicKey])).encoded
        for index in encoded.indices {
            var bytes = encoded
            bytes[index] ^= 0x01
            guard let altered = try? Lock(decoding: bytes) else { continue }
            #expect(throws: LockError.self, "byte \(index)") { try altered.open(with: [holders[0]], chain: chain, sender: sender) }
        }
    }

    @Test func theNodesEnvelopeCheckAgreesWithTheDecoder() throws {
        for target in [LockTarget.recipients([holders[0].publicKey]), .threshold(2, holders.prefix(3).map(\.publicKey)),
                       .passphrase(SecretBytes(utf8: "p"), opsLimit: 1, memLimit: 8192)] {
            let encoded = try lock(target).encoded
            try Lock.checkEnvelope(encoded, chain: chain, sender: sender)
            #expect(throws: RuleError.self) { try Lock.checkEnvelope(encoded, chain: chain, sender: TestKeys.key(8).publicKey) }
            #expect(throws: RuleError.self) { try Lock.checkEnvelope(Array(encoded.dropLast()), chain: chain, sender: sender) }
            #expect(throws: RuleError.self) { try Lock.checkEnvelope(encoded + [0], chain: chain, sender: sender) }
            #expect(throws: RuleError.self) { try Lock(decoding: Array(encoded.dropLast())) }
        }
    }

    @Test func kMinusOneHoldersFailAndKSucceed() throws {
        let locked = try lock(.threshold(3, holders.map(\.publicKey)))
        #expect(throws: LockError.tooFewShares(have: 2, need: 3)) { try locked.open(with: [holders[0], holders[4]], chain: chain, sender: sender) }
        for group in [[0, 1, 2], [4, 2, 0], [1, 3, 4]] {
            #expect(try locked.open(with: group.map { holders[$0] }, chain: chain, sender: sender) == plaintext)
        }
        #expect(throws: LockError.notARecipient) { try locked.open(with: [TestKeys.key(20)], chain: chain, sender: sender) }
        // A holder given twice counts once: a shortage, not an altered envelope.
        #expect(throws: LockError.tooFewShares(have: 2, need: 3)) {
            try locked.open(with: [holders[0], holders[0], holders[4], holders[0]], chain: chain, sender: sender)
        }
        #expect(try locked.open(with: [holders[1], holders[1], holders[2], holders[3]], chain: chain, sender: sender) == plaintext)
    }

    @Test func aWrongPassphraseFails() throws {
        let locked = try lock(.passphrase(SecretBytes(utf8: "correct horse"), opsLimit: 1, memLimit: 8192))
        #expect(try locked.open(passphrase: SecretBytes(utf8: "correct horse"), chain: chain, sender: sender) == plaintext)
        #expect(throws: LockError.wrongPassphrase) { try locked.open(passphrase: SecretBytes(utf8: "battery staple"), chain: chain, sender: sender) }
    }

    @Test func anEnvelopeMovedIntoAnotherTransactionFails() throws {
        let locked = try lock(.recipients([holders[0].publicKey]))
        let otherSender = TestKeys.key(8).publicKey
        #expect(throws: LockError.wrongBinding) { try locked.open(with: [holders[0]], chain: chain, sender: otherSender) }
        #expect(throws: RuleError.self) { try Lock.checkEnvelope(locked.encoded, chain: chain, sender: otherSender) }
        // Rewriting the bound sender to match the new transaction breaks the authentication.
        var bytes = locked.encoded
        let at = DomainTag.lock.bytes.count + 32
        bytes.replaceSubrange(at..<at + 32, with: otherSender.bytes)
        let rebound = try Lock(decoding: bytes)
        #expect(throws: LockError.tampered) { try rebound.open(with: [holders[0]], chain: chain, sender: otherSender) }
    }

    @Test func gf256ArithmeticAndShamirEdges() throws {
        #expect(Shamir.multiply(0x53, 0xca) == 0x01, "the AES field's textbook inverse pair")
        for a in 1...255 { #expect(Shamir.multiply(UInt8(a), Shamir.inverse(UInt8(a))) == 1) }
        var secretBytes = (0..<32).map { UInt8($0) }
        let secret = SecretBytes(consuming: &secretBytes)
        let shares = Shamir.split(secret, threshold: 2, count: 3)
        let combined = try #require(Shamir.combine([shares[2], shares[0]]))
        #expect(combined.withBytes { Array($0) } == (0..<32).map { UInt8($0) })
        #expect(Shamir.combine([shares[0], shares[0]]) == nil, "repeated x")
    }

    struct Vectors: Decodable {
        struct Case: Decodable {
            let name: String
            let envelope: String
            let openWithSeeds: [String]
            let passphrase: String?
        }
        let chain: String
        let sender: String
        let plaintext: String
        let cases: [Case]
    }

    /// Envelopes sealed by documentation/examples/qbc_lock.py (PyNaCl, written from locks.md).
    @Test func envelopesSealedByThePyNaClExampleOpen() throws {
        let url = try #require(Bundle.module.url(forResource: "locks", withExtension: "json", subdirectory: "Fixtures"))
        let vectors = try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
        let chain = try Hash(hex: vectors.chain)
        let sender = try PublicKey(hex: vectors.sender)
        #expect(vectors.cases.count == 3)
        for vector in vectors.cases {
            let lock = try Lock(decoding: try Hex.decode(vector.envelope))
            let opened: [UInt8]
            if let passphrase = vector.passphrase {
                opened = try lock.open(passphrase: SecretBytes(utf8: passphrase), chain: chain, sender: sender)
            } else {
                let keys = try vector.openWithSeeds.map { hex in
                    var seed = try Hex.decode(hex)
                    return try SigningKey(seed: SecretBytes(consuming: &seed))
                }
                opened = try lock.open(with: keys, chain: chain, sender: sender)
            }
            #expect(opened == Array(vectors.plaintext.utf8), "\(vector.name)")
        }
    }
}
