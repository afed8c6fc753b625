import Foundation
import QBCWire
import Testing

/// The batch answer written by hand is byte for byte what Foundation's encoder writes.
@Suite struct InjectBatchEncodingTests {
    /// Every control character, quotes, backslashes, slashes, and text outside ASCII.
    static let strings: [String] = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) } + [
        "", "admitted", "rejected", "bad_signature", "a \"quoted\" word", #"back\slash"#, "a/b", "é and 日本", "🙂", "\u{2028}\u{2029}",
        "\u{7F}", String(repeating: "x", count: 300), "transaction 0f3a… is committed already\nsee documentation/protocol.md",
    ]

    @Test func theHandWrittenAnswerIsFoundationsBytes() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        func maybe() -> String? { next(4) == 0 ? nil : Self.strings[next(Self.strings.count)] }
        for count in [0, 1, 2, 3, 10, 57] {
            for _ in 0..<40 {
                let results = (0..<count).map { _ in
                    InjectResultJSON(id: maybe(), status: next(2) == 0 ? "admitted" : Self.strings[next(Self.strings.count)], error: maybe(), message: maybe())
                }
                let batch = InjectBatchJSON(results: results)
                #expect(batch.encoded == WireJSON.encode(batch), "\(String(decoding: batch.encoded, as: UTF8.self))")
            }
        }
    }
}
