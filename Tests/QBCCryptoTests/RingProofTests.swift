import QBCCrypto
import QBCTestSupport
import Testing

@Suite struct RingProofTests {
    static let secrets = (1...6).map { ReadSecret(of: TestKeys.key(UInt8($0))) }
    static let keys = secrets.map(\.publicKey)
    static let context = Array("qbc test context".utf8)

    @Test func readKeysAreDerivedFromTheSeedAndDifferFromTheIdentity() {
        let again = ReadSecret(of: TestKeys.key(1)).publicKey
        #expect(again == Self.keys[0], "the same seed gives the same read key")
        #expect(Set(Self.keys).count == Self.keys.count)
        #expect(Self.keys[0].bytes != TestKeys.key(1).publicKey.bytes)
        #expect((try? RistrettoPoint(validating: Self.keys[0].bytes)) != nil)
    }

    /// One element, one encoding (RFC 9496): the top bit set is refused although libsodium 1.0.18
    /// would decode it as the same point; so is the identity, in any form.
    @Test func onlyCanonicalEncodingsOfKeysAreTaken() {
        var high = Self.keys[0].bytes
        high[31] |= 0x80
        #expect(throws: CryptoError.self) { try RistrettoPoint(validating: high) }
        var identity = [UInt8](repeating: 0, count: 32)
        #expect(throws: CryptoError.self) { try RistrettoPoint(validating: identity) }
        identity[31] = 0x80
        #expect(throws: CryptoError.self) { try RistrettoPoint(validating: identity) }
        #expect(throws: CryptoError.self) { try RistrettoPoint(validating: [UInt8](repeating: 0xff, count: 32)) }
    }

    @Test(arguments: [0, 2, 5])
    func anyMemberProvesAndTheProofVerifies(_ index: Int) throws {
        let proof = try #require(RingProof.prove(Self.secrets[index], at: index, among: Self.keys, context: Self.context))
        #expect(proof.verifies(among: Self.keys, context: Self.context))
        let decoded = try RingProof(decoding: proof.encoded, count: Self.keys.count)
        #expect(decoded == proof)
        #expect(proof.encoded.count == 64 * Self.keys.count)
    }

    @Test func aSingleKeyRingIsASchnorrProof() throws {
        let proof = try #require(RingProof.prove(Self.secrets[0], at: 0, among: [Self.keys[0]], context: Self.context))
        #expect(proof.verifies(among: [Self.keys[0]], context: Self.context))
        #expect(!proof.verifies(among: [Self.keys[1]], context: Self.context))
    }

    @Test func everyAlterationIsRefused() throws {
        let proof = try #require(RingProof.prove(Self.secrets[3], at: 3, among: Self.keys, context: Self.context))
        let bytes = proof.encoded
        for index in [0, 3 * 32, 6 * 32, 9 * 32 + 7, bytes.count - 32] {
            var altered = bytes
            altered[index] ^= 1
            if let tampered = try? RingProof(decoding: altered, count: Self.keys.count) {
                #expect(!tampered.verifies(among: Self.keys, context: Self.context), "byte \(index) changed")
            }
        }
        #expect(!proof.verifies(among: Self.keys, context: Self.context + [0]), "another request")
        #expect(!proof.verifies(among: Self.keys.reversed(), context: Self.context), "another order")
        #expect(!proof.verifies(among: Array(Self.keys.dropLast()), context: Self.context), "another set")
    }

    @Test func whoIsNotInTheRingCannotProve() {
        let outsider = ReadSecret(of: TestKeys.key(40))
        #expect(RingProof.prove(outsider, at: 0, among: Self.keys, context: Self.context) == nil, "its key is not at that index")
        // Proving over a ring where the outsider's key replaces one member's does not carry over.
        var forged = Self.keys
        forged[2] = outsider.publicKey
        if let proof = RingProof.prove(outsider, at: 2, among: forged, context: Self.context) {
            #expect(proof.verifies(among: forged, context: Self.context))
            #expect(!proof.verifies(among: Self.keys, context: Self.context))
        }
    }

    @Test func scalarsMustBeCanonicalAndNonzero() throws {
        let proof = try #require(RingProof.prove(Self.secrets[0], at: 0, among: Self.keys, context: Self.context))
        var bytes = proof.encoded
        // ℓ itself, little-endian, in place of the first challenge.
        let order: [UInt8] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ]
        bytes.replaceSubrange(0..<32, with: order)
        #expect(throws: CryptoError.self) { try RingProof(decoding: bytes, count: Self.keys.count) }
        bytes.replaceSubrange(0..<32, with: [UInt8](repeating: 0, count: 32))
        #expect(throws: CryptoError.self) { try RingProof(decoding: bytes, count: Self.keys.count) }
        #expect(throws: CryptoError.self) { try RingProof(decoding: proof.encoded, count: Self.keys.count + 1) }
        var belowOrder = order
        belowOrder[0] -= 1
        #expect((try? RistrettoScalar(canonical: belowOrder)) != nil, "ℓ − 1 is canonical")
    }

    @Test func aProofOfPossessionIsBoundToItsMessageAndKey() {
        let message = Array("register".utf8)
        let proof = Self.secrets[0].proveKnowledge(of: message)
        #expect(ReadSecret.verifyKnowledge(proof, of: message, key: Self.keys[0]))
        #expect(!ReadSecret.verifyKnowledge(proof, of: message + [1], key: Self.keys[0]))
        #expect(!ReadSecret.verifyKnowledge(proof, of: message, key: Self.keys[1]))
        var altered = proof
        altered[40] ^= 1
        #expect(!ReadSecret.verifyKnowledge(altered, of: message, key: Self.keys[0]))
        #expect(!ReadSecret.verifyKnowledge(Array(proof.prefix(63)), of: message, key: Self.keys[0]))
    }

    /// Zero knowledge, checked the way an observer would try to break it: proofs made by the
    /// first and by the last member of a ring, many of each. If any position's challenge or
    /// response told the prover apart (say the prover's own challenge were derived so that its
    /// top bit or low byte leaned one way), the two groups' bit frequencies would differ. Every
    /// scalar is uniform whoever proves, so each frequency stays within 6 standard deviations
    /// of ½ in both groups (a false alarm about once in 10^8 runs).
    @Test func proofsDoNotRevealWhichMemberMadeThem() throws {
        let ring = Array(Self.keys.prefix(4))
        let perGroup = 1200
        var ones = [[Int]](repeating: [Int](repeating: 0, count: 8 * 16), count: 2)
        for (group, index) in [0, 3].enumerated() {
            for _ in 0..<perGroup {
                let proof = try #require(RingProof.prove(Self.secrets[index], at: index, among: ring, context: Self.context))
                let scalars = proof.challenges + proof.responses
                for (position, scalar) in scalars.enumerated() {
                    // Sixteen bits per scalar: the lowest byte and the byte below the top (the top bits of a
                    // reduced scalar are biased towards 0 for everyone, so they would say nothing).
                    for bit in 0..<8 {
                        if scalar.bytes[0] >> bit & 1 == 1 { ones[group][position * 16 + bit] += 1 }
                        if scalar.bytes[30] >> bit & 1 == 1 { ones[group][position * 16 + 8 + bit] += 1 }
                    }
                }
            }
        }
        let tolerance = 6 * (0.25 / Double(perGroup)).squareRoot()
        for group in 0..<2 {
            for (cell, count) in ones[group].enumerated() {
                let frequency = Double(count) / Double(perGroup)
                #expect(abs(frequency - 0.5) < tolerance, "group \(group), scalar \(cell / 16), bit \(cell % 16): \(frequency)")
            }
        }
        let gap = ones[0].indices.map { abs(ones[0][$0] - ones[1][$0]) }.max() ?? 0
        #expect(Double(gap) / Double(perGroup) < 2 * tolerance, "the groups' frequencies agree")
    }
}
