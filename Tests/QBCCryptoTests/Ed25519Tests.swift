import Foundation
import QBCCrypto
import QBCTestSupport
import Testing

struct RFC8032Vector: Decodable, Sendable, CustomTestStringConvertible {
    let seed: String
    let publicKey: String
    let message: String
    let signature: String
    var testDescription: String { "seed \(seed.prefix(8))…" }
}

@Suite struct Ed25519Tests {
    static let vectors: [RFC8032Vector] = (try? Vectors.load(
        [RFC8032Vector].self, named: "rfc8032-ed25519", in: .module)) ?? []

    @Test func vectorsAreLoaded() {
        #expect(Self.vectors.count == 3)
    }

    @Test(arguments: vectors)
    func rfc8032(_ vector: RFC8032Vector) throws {
        var seed = try Hex.decode(vector.seed)
        let key = try SigningKey(seed: SecretBytes(consuming: &seed))
        #expect(key.publicKey.hex == vector.publicKey)
        let message = try Hex.decode(vector.message)
        let signature = key.sign(message)
        #expect(signature.hex == vector.signature)
        #expect(key.publicKey.verify(signature, over: message))
    }

    @Test(arguments: vectors)
    func anyFlippedBitFailsVerification(_ vector: RFC8032Vector) throws {
        let key = try PublicKey(hex: vector.publicKey)
        let message = try Hex.decode(vector.message)
        let signature = try Signature(hex: vector.signature)
        for index in 0..<Signature.byteCount {
            var bytes = signature.bytes
            bytes[index] ^= 0x01
            #expect(!key.verify(Signature(unchecked: bytes), over: message))
        }
        #expect(!key.verify(signature, over: message + [0]))
        for index in message.indices {
            var tampered = message
            tampered[index] ^= 0x80
            #expect(!key.verify(signature, over: tampered))
        }
    }

    @Test func wrongKeyFails() {
        let signer = SigningKey()
        let other = SigningKey()
        let message = Array("qbc".utf8)
        let signature = signer.sign(message)
        #expect(signer.publicKey.verify(signature, over: message))
        #expect(!other.publicKey.verify(signature, over: message))
    }

    @Test func seedRoundTrip() throws {
        let key = SigningKey()
        let copy = try SigningKey(seed: key.seed())
        #expect(copy.publicKey == key.publicKey)
        #expect(throws: CryptoError.self) { _ = try SigningKey(seed: SecretBytes(random: 31)) }
    }
}
