import Foundation
import QBCCrypto
import QBCTestSupport
import Testing

struct BlakeVector: Decodable, Sendable {
    let message: String
    let blake2b256: String
}

@Suite struct EncodingTests {
    @Test func blake2b256MatchesIndependentVectors() throws {
        let vectors = try Vectors.load([BlakeVector].self, named: "blake2b256", in: .module)
        #expect(vectors.count == 4)
        for vector in vectors {
            #expect(Hash.blake2b(try Hex.decode(vector.message)).hex == vector.blake2b256)
        }
    }

    @Test func hexRoundTripAndStrictness() throws {
        let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xfe, 0xff]
        #expect(Hex.encode(bytes) == "00017f80feff")
        #expect(try Hex.decode("00017F80FEFF") == bytes)
        #expect(try Hex.decode("") == [])
        for bad in ["0", "0g", "zz", " 00", "00 ", "0x00"] {
            #expect(throws: CryptoError.invalidHex(what: "value")) { try Hex.decode(bad) }
        }
        #expect(throws: CryptoError.wrongLength(what: "public key", expected: 32, actual: 2)) {
            try PublicKey(hex: "abcd")
        }
    }

    @Test func base64RoundTripAndStrictness() throws {
        for length in 0..<40 {
            let bytes = SecureRandom.bytes(length)
            let text = Base64.encode(bytes)
            #expect(text == Data(bytes).base64EncodedString())
            #expect(try Base64.decode(text) == bytes)
        }
        for bad in ["e30", "e3=0", "e30=\n", "*e30=", "e30==", "e3-_"] {
            #expect(throws: CryptoError.self) { try Base64.decode(bad) }
        }
    }

    @Test func constantTimeEquality() {
        #expect(ConstantTime.equal([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equal([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equal([1, 2, 3], [1, 2]))
        #expect(ConstantTime.equal([], []))
    }

    @Test func leadingZeroBits() throws {
        #expect(Hash.zero.leadingZeroBits == 256)
        var bytes = [UInt8](repeating: 0, count: 32)
        bytes[1] = 0x10
        #expect(try Hash(bytes: bytes).leadingZeroBits == 11)
    }

    /// `==` compares eight bytes at a time, then the tail: equal exactly when every byte is.
    @Test func fixedBytesAreEqualExactlyWhenEveryByteIs() {
        struct Odd: FixedBytes {
            static let byteCount = 13
            static let name = "odd"
            let bytes: [UInt8]
            init(unchecked bytes: [UInt8]) { self.bytes = bytes }
        }
        func check<T: FixedBytes>(_ type: T.Type) {
            let base = (0..<T.byteCount).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let value = T(unchecked: base)
            #expect(value == T(unchecked: base))
            #expect(value.hashValue == T(unchecked: base).hashValue)
            for index in 0..<T.byteCount {
                var other = base
                other[index] ^= 0x80
                #expect(value != T(unchecked: other), "\(T.name): byte \(index) differs")
            }
        }
        check(Hash.self)
        check(PublicKey.self)
        check(Signature.self)
        check(RistrettoPoint.self)
        check(RistrettoScalar.self)
        check(Odd.self)
    }

    /// The inline key of the mempool and the held ids: the same bytes back, equal exactly when
    /// the hashes are, ordered as their bytes are, and short input read as zero-padded.
    @Test func hashKeysKeepTheBytesTheirEqualityAndTheirOrder() {
        var generator = SystemRandomNumberGenerator()
        let hashes = (0..<200).map { index -> Hash in
            var bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Pairs that share long prefixes, so the later words decide.
            if index % 4 == 1 { bytes[0..<24] = [UInt8](repeating: 7, count: 24)[...] }
            return Hash(unchecked: bytes)
        }
        for a in hashes {
            #expect(HashKey(a).bytes == a.bytes)
            #expect(HashKey(a).hash == a)
            for b in hashes.prefix(50) {
                #expect((HashKey(a) == HashKey(b)) == (a == b))
                #expect((HashKey(a) < HashKey(b)) == a.bytes.lexicographicallyPrecedes(b.bytes))
            }
        }
        #expect(HashKey([1, 2]).bytes == [1, 2] + [UInt8](repeating: 0, count: 30))
    }
}
