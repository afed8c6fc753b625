import Foundation
import QBCCore
import QBCCrypto
import QBCTestSupport
@testable import QBCWire
import Testing

/// The plain-JSON fast path must change no answer: wherever it reads something, Foundation reads
/// the same; wherever it declines, Foundation decides as before.
@Suite struct PlainJSONTests {
    /// xorshift64*: deterministic mutations, so a failure names its seed.
    struct Mutator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return Int((state &* 2_685_821_657_736_338_717) % UInt64(bound))
        }

        static let alphabet = Array(#"{}[]",:0123456789-.eE+ \tabcdefnrtu\/"#.utf8) + [0x00, 0x1f, 0x7f, 0xc3, 0xa9]

        mutating func mutate(_ input: [UInt8]) -> [UInt8] {
            var bytes = input
            for _ in 0..<(1 + next(3)) {
                let at = next(bytes.count + 1)
                switch next(4) {
                case 0 where at < bytes.count: bytes.remove(at: at)
                case 1 where at < bytes.count: bytes[at] = Self.alphabet[next(Self.alphabet.count)]
                case 2: bytes.insert(Self.alphabet[next(Self.alphabet.count)], at: at)
                default:
                    // Duplicate a short run: repeated keys, doubled commas, nested brackets.
                    let start = next(max(1, bytes.count)), length = 1 + next(12)
                    let run = bytes[min(start, bytes.count)..<min(bytes.count, start + length)]
                    bytes.insert(contentsOf: run, at: min(at, bytes.count))
                }
            }
            return bytes
        }
    }

    static func batch() -> [UInt8] {
        let txs = (0..<3).map { index in
            Transaction(signing: .init(
                chain: .zero, sender: TestKeys.key(1).publicKey, nonce: .random(), timestamp: .init(milliseconds: 1_700_000_000_000 + UInt64(index)),
                contentType: "application/json", payload: Array(#"{"n":\#(index)}"#.utf8)), with: TestKeys.key(1))
        }
        return WireJSON.encode(txs.map(TransactionJSON.init))
    }

    static func foundation(_ bytes: [UInt8]) -> String {
        do throws(WireError) {
            return try WireJSON.decode([EachDecoded<TransactionJSON>].self, from: bytes, what: "transaction list").map { "\($0.value)" }.description
        } catch { return "error: \(error)" }
    }

    static func fast(_ bytes: [UInt8]) -> String {
        do throws(WireError) { return try TransactionJSON.list(from: bytes, maxCount: .max).map { "\($0.value)" }.description } catch {
            return "error: \(error)"
        }
    }

    /// The path for arrays that are not plain: each element parsed alone (D75).
    static func elementwise(_ bytes: [UInt8]) -> String {
        do throws(WireError) { return try TransactionJSON.elementwise(bytes, maxCount: .max).map { "\($0.value)" }.description } catch {
            return "error: \(error)"
        }
    }

    @Test func clientBatchesTakeTheFastPathAndReadAsFoundationReadsThem() {
        let batch = Self.batch()
        #expect(TransactionJSON.plainList(batch)?.count == 3, "the form clients send is plain")
        #expect(Self.fast(batch) == Self.foundation(batch))
        let spaced = Array(" [\n".utf8) + batch.dropFirst() + Array(" \t\r\n".utf8)
        #expect(TransactionJSON.plainList(spaced)?.count == 3)
        #expect(Self.fast(spaced) == Self.foundation(spaced))
    }

    @Test func mutatedBatchesReadAsFoundationReadsThem() {
        let batch = Self.batch()
        var mutator = Mutator(state: 0x9E37_79B9_7F4A_7C15)
        var plain = 0
        var followed = 0
        for round in 0..<4000 {
            let input = mutator.mutate(batch)
            if TransactionJSON.plainList(input) != nil { plain += 1 }
            let (fast, reference) = (Self.fast(input), Self.foundation(input))
            if fast != reference {
                Issue.record("round \(round): \(String(decoding: input, as: UTF8.self))\nfast: \(fast)\nFoundation: \(reference)")
                return
            }
            if JSONShape.arrayElements(input, maxCount: .max) != .unreadable { followed += 1 }
            let alone = Self.elementwise(input)
            if alone != reference {
                Issue.record("round \(round): \(String(decoding: input, as: UTF8.self))\nelement-wise: \(alone)\nFoundation: \(reference)")
                return
            }
        }
        #expect(plain > 100, "some mutations stay plain, so the comparison covers the fast path (\(plain))")
        #expect(followed > 1000, "most mutations are arrays the linear pass follows, so the comparison covers it (\(followed))")
    }

    @Test func theLinearPassFindsElementsAndCountsValues() {
        func shape(_ text: String, maxCount: Int = 10) -> JSONShape.Outcome { JSONShape.arrayElements(Array(text.utf8), maxCount: maxCount) }
        func values(_ text: String) -> [Int]? {
            guard case .elements(let found) = shape(text) else { return nil }
            return found.map(\.values)
        }
        #expect(values("[]") == [])
        #expect(values(" [ ] ") == [])
        #expect(values("[1, \"a\" ,true,null]") == [1, 1, 1, 1])
        #expect(values(#"[{"a":[1,2,{"b":"]}\",["}]},[]]"#) == [8, 1], "brackets and an escaped quote inside a string")
        #expect(values("[1,2,]") == [1, 1], "a trailing comma, as Foundation takes it")
        #expect(values("\u{FEFF}[1]") == [1], "a byte-order mark")
        #expect(values(#"["\\"]"#) == [1], "an escaped backslash ends before the quote")
        #expect(values(#"["\ud83d\ude00", "é", -0.5e+3, 0, false]"#) == [1, 1, 1, 1, 1], "a surrogate pair, UTF-8, numbers")
        // Foundation reads these only when it decodes them: the pass refuses them, so the whole
        // array goes to Foundation (or, large, is refused as not JSON).
        for notJSON in [#"["\udc00"]"#, #"["\ud800"]"#, #"["\ud800\u0041"]"#, "[\"\u{01}\"]", #"["\x"]"#, "[01]", "[1.]", "[-]", "[tru]", "[2x]", #"[{"a":[1}]]"#, "[[}]"] {
            #expect(shape(notJSON) == .unreadable, "\(notJSON.debugDescription)")
        }
        #expect(JSONShape.arrayElements([UInt8(ascii: "["), UInt8(ascii: "\""), 0xC3, UInt8(ascii: "\""), UInt8(ascii: "]")], maxCount: 1) == .unreadable, "cut-off UTF-8")
        #expect(shape(String(repeating: "[", count: 258) + String(repeating: "]", count: 258)) == .unreadable, "deeper than 256 inside the array")
        let text = #"[ {"k":1} , 22 ]"#
        guard case .elements(let found) = shape(text) else { Issue.record("not followed"); return }
        #expect(found.map { String(decoding: Array(text.utf8)[$0.range], as: UTF8.self) } == [#"{"k":1}"#, "22"])
        for unreadable in ["", "1", "{}", "[", "[1", "[1 2]", "[,]", "[1,,2]", "[1]x", #"["a]"#, "[}]", "[1]]", "[\"\\\"]"] {
            #expect(shape(unreadable) == .unreadable, "\(unreadable.debugDescription)")
        }
        #expect(shape("[1,2,3]", maxCount: 2) == .tooMany)
        #expect(shape("[1,2,3", maxCount: 2) == .tooMany, "counted before the end is read")
        #expect(shape("[1,2]", maxCount: 2) == .elements([.init(range: 1..<2, values: 1), .init(range: 3..<4, values: 1)]))
        #expect(JSONShape.documentValues(Array(#" {"a":[1,{}]} "#.utf8)) == 5)
        #expect(JSONShape.documentValues(Array(#"{"a":1} 2"#.utf8)) == nil)
        #expect(JSONShape.documentValues(Array(#"{"a":"#.utf8)) == nil)
    }

    @Test func plainlyValidJSONIsValidForFoundation() {
        let documents = [
            #"{"a":[1,-2.5,true,false,null,"x\n\"y\""],"b":{}}"#, "0", "-0", "[]", "\"\"", #"{"":1}"#, "12345678901234567890",
            String(repeating: "[", count: 64) + String(repeating: "]", count: 64),
            // The longest numbers taken: 300 digits, whole or after "0.".
            "[" + String(repeating: "9", count: 300) + "]", "-0." + String(repeating: "1", count: 299),
        ]
        for document in documents {
            #expect(PlainJSON.isPlainlyValid(Array(document.utf8)), "\(document)")
            #expect((try? JSONSerialization.jsonObject(with: Data(document.utf8), options: .fragmentsAllowed)) != nil, "Foundation takes \(document)")
        }
        for declined in ["1" + String(repeating: "0", count: 300), "1e5", "[1,]", "\u{FEFF}[]", #""\u0041""#, "01", "1.", "\"é\"", String(repeating: "[", count: 65) + String(repeating: "]", count: 65)] {
            #expect(!PlainJSON.isPlainlyValid(Array(declined.utf8)), "\(declined) goes to Foundation")
        }
        var mutator = Mutator(state: 42)
        let seeds = documents.map { Array($0.utf8) } + [Array(#"{"k":[{"v":"w"},2,3.25],"t":true}"#.utf8)]
        var plain = 0
        for round in 0..<6000 {
            let input = mutator.mutate(seeds[round % seeds.count])
            guard PlainJSON.isPlainlyValid(input) else { continue }
            plain += 1
            let foundation = (try? JSONSerialization.jsonObject(with: Data(input), options: .fragmentsAllowed)) != nil
            #expect(foundation, "round \(round): plainly valid but refused by Foundation: \(String(decoding: input, as: UTF8.self))")
        }
        #expect(plain > 300, "\(plain)")
    }
}
