import QBCCore
import QBCCrypto
import QBCTestSupport
import Testing

/// The binary page nodes sync with (protocol.md, "Binary Quant pages").
@Suite struct QuantPageTests {
    static func parts(_ quants: [Quant]) -> [QuantPage.Part] {
        quants.map(QuantPage.Part.init)
    }

    static func twoQuants() -> [Quant] {
        var chain = ChainBuilder()
        let first = chain.quant((0..<3).map { chain.transaction("a\($0)") }, parent: nil)
        let signer = TestKeys.key(3)
        let certificate = CommitCertificate(round: 2, signers: [.init(key: signer.publicKey, signature: signer.sign([1, 2, 3]))])
        let second = chain.quant([chain.transaction("b")], parent: (1, first.hash)).certified(by: certificate)
        return [first, second]
    }

    @Test func pagesRoundTrip() throws {
        let quants = Self.twoQuants()
        let decoded = try QuantPage.decode(QuantPage.encode(Self.parts(quants)), limits: .standard, maxQuants: 50)
        #expect(decoded == quants)
        #expect(decoded[1].certificate == quants[1].certificate)
        #expect(decoded[0].certificate == nil)
        #expect(try QuantPage.decode(QuantPage.encode([]), limits: .standard, maxQuants: 50).isEmpty)
    }

    @Test func malformedPagesAreRefusedBeforeTheyCostMemory() {
        let bytes = QuantPage.encode(Self.parts(Self.twoQuants()))
        #expect(throws: CanonicalReader.DecodingError.self, "one Quant more than asked for") {
            try QuantPage.decode(bytes, limits: .standard, maxQuants: 1)
        }
        for cut in [1, 3, 40, bytes.count / 2, bytes.count - 1] {
            #expect(throws: CanonicalReader.DecodingError.self, "cut at \(cut)") {
                try QuantPage.decode(Array(bytes.prefix(cut)), limits: .standard, maxQuants: 50)
            }
        }
        #expect(throws: CanonicalReader.DecodingError.trailingBytes(1)) { try QuantPage.decode(bytes + [0], limits: .standard, maxQuants: 50) }
        // A count of four billion transactions in a few bytes is refused before any is reserved.
        var lying = CanonicalWriter()
        lying.u32(1)
        lying.bytes32(Self.twoQuants()[0].header.encoded)
        lying.bytes32([])
        lying.u32(.max)
        #expect(throws: CanonicalReader.DecodingError.self) { try QuantPage.decode(lying.bytes, limits: .standard, maxQuants: 50) }
        // Payloads are held to the chain's limit.
        var small = TransactionLimits.standard
        small.maxPayloadBytes = 1
        #expect(throws: CanonicalReader.DecodingError.self) { try QuantPage.decode(bytes, limits: small, maxQuants: 50) }
    }
}
