@testable import QBCCore
import Testing

/// Payload-schema patterns run on QBC's own linear-time matcher (D55).
@Suite struct PatternTests {
    func pattern(_ source: String) throws(PayloadSchema.SchemaError) -> Pattern { try Pattern(source, at: "#/pattern") }

    @Test(arguments: [
        ("^a*$", "aaa", true), ("^a*$", "aab", false), ("a+", "xxaxx", true), ("^π$", "π", true),
        (#"^\p{Letter}+$"#, "héllo", true), (#"^\p{Letter}+$"#, "hé1", false), (#"^\p{Lu}\p{Ll}+$"#, "Ünal", true),
        (#"^\P{N}+$"#, "abc", true), (#"^\P{N}+$"#, "ab3", false),
        ("^[A-Z]{3}-[0-9]+$", "ABC-12", true), ("^[A-Z]{3}-[0-9]+$", "AB-12", false), ("colou?r", "the color", true),
        ("(cat|dog)s?$", "hotdogs", true), ("(cat|dog)s?$", "dogsled", false),
        (#"^\d{2,4}$"#, "12345", false), (#"^\d{2,4}$"#, "123", true), (#"^\d{2,}$"#, "1", false), (#"^\d{2,}?$"#, "1234567", true),
        (#"\bfoo\b"#, "a foo b", true), (#"\bfoo\b"#, "afoo", false), (#"\Boo"#, "foo", true), (#"^[^\s]+$"#, "a b", false),
        ("^.$", "\n", false), ("^.$", "é", true), (#"^[\w.-]+@[\w-]+\.[a-z]{2,}$"#, "a.b@c-d.io", true),
        ("^(?:ab)+$", "ababab", true), ("^(?:ab)+$", "ababa", false), (#"^(?<year>\d{4})-\d\d$"#, "2026-11", true),
        (#"^\u00e9$"#, "é", true), (#"^\u{1F600}$"#, "😀", true), (#"^\x41$"#, "A", true), (#"^\t\n$"#, "\t\n", true),
        ("a{,3}", "a{,3}", true), ("^]$", "]", true), ("[]", "a", false), ("^[^]$", "x", true), ("^a{0}$", "", true),
        ("^(a|)+$", "aaa", true), ("^(a*)*$", "aaaa", true), ("^(a*)*b$", "aaaac", false), ("", "anything", true),
        (#"^\$\d+\.\d\d$"#, "$12.50", true), ("^a{3}$", "aaa", true), ("^a{3}$", "aaaa", false), ("^[a-c-]+$", "a-c", true),
        (#"^[\d\-x]+$"#, "1-x", true), (#"^[\b]$"#, "\u{8}", true), ("^$", "", true), ("^$", "a", false), ("^(((){1000}){1000}){1000}$", "", true), ("^(^$){5}$", "", true),
        (#"^\u{0000041}$"#, "A", true), (#"^\uD83D\uDE00$"#, "😀", true), (#"^(?<name$_1>x)$"#, "x", true), (##"^a\ b\#$"##, "a b#", true),
        (#"^[\D]$"#, "x", true), (#"^[\D]$"#, "5", false), (#"^[^\W\d]+$"#, "ab_", true), (#"^[^\W\d]+$"#, "a1", false),
        (#"^[\P{L}\P{N}]$"#, "a", true), (#"^[\p{Nd}x]+$"#, "x٣", true), (#"^[\s\S]$"#, "\u{2028}", true),
    ] as [(String, String, Bool)])
    func matches(source: String, text: String, expected: Bool) throws {
        #expect(try pattern(source).matches(text) == expected, "\(source) against \(text.debugDescription)")
    }

    @Test(arguments: [
        ("(", "not closed"), (")", "unmatched"), ("a**", "repeats a repetition"), ("*a", "nothing to repeat"),
        ("{2}", "nothing to repeat"), ("(?=a)", "lookaround"), ("(?!a)", "lookaround"), ("(?<=a)b", "lookaround"),
        ("(?i)a", "lookaround"), (#"(a)\1"#, "backreferences"), (#"\k<x>"#, "backreferences"),
        (#"\p{Script=Latin}"#, "general categories only"), ("[z-a]", "wrong way round"), ("a{5,2}", "wrong way round"),
        ("a{1001}", "at most 1000"), ("(a{1000}){1000}", "too large"), (#"\q"#, "not an escape"), (#"[\d-z]"#, "between two characters"),
        ("^*", "cannot be repeated"), (#"\u12"#, "hex digits"), (#"\u{110000}"#, "Unicode scalar"),
        (String(repeating: "(", count: 65) + String(repeating: ")", count: 65), "nest at most"),
        ("(?<>a)", "group name"), ("(?<a)b>c)", "group name"), ("(?<1a>x)", "group name"),
        (#"\p{General_Category=gc=L}"#, "general categories only"), (#"\€"#, "not an escape"), (#"\é"#, "not an escape"),
        (#"\p{a"# + String(repeating: "\u{301}", count: 509) + "}", "not closed within 64"), (#"\uD83D"#, "lone surrogate"),
    ])
    func refusals(source: String, reason: String) {
        do {
            _ = try pattern(source)
            Issue.record("\(source) was accepted")
        } catch {
            #expect(error.message.contains(reason), "\(source): \(error.message)")
            #expect(error.message.hasPrefix("#/pattern: pattern '"), "the error names where the pattern is: \(error.message)")
        }
    }

    /// Patterns that make a backtracking engine take exponential (or high polynomial) time answer
    /// at once here. With Swift's Regex the first took 9.6 s on 24 characters: this test would not end.
    @Test(.timeLimit(.minutes(1)), arguments: [#"^(a|a)*b$"#, #"^(a+)+b$"#, #"(a*)*b"#, #"^(\w+\s?)*$"#, #"^(.*a){12}$"#, "a*a*a*a*a*b"])
    func pathologicalPatternsStayLinear(source: String) throws {
        let text = String(repeating: "a", count: 20_000) + "!"
        #expect(try pattern(source).matches(text) == false)
    }

    /// From a review: building a repeated body twice (once to see whether it was empty) doubled the
    /// work at each of 64 nesting levels; a class of a thousand items was scanned item by item.
    @Test(.timeLimit(.minutes(1))) func compilingAndBigClassesStayCheap() throws {
        for quantifier in ["?", "*", "{1}", "+"] {
            let nested = String(repeating: "(", count: 64) + "a" + String(repeating: ")" + quantifier, count: 64)
            #expect(try pattern(nested).matches("a"))
        }
        let bigClass = "(?:[" + String(repeating: "b", count: 1007) + "a]{1000}){4}c"
        #expect(bigClass.utf8.count == 1024)
        let compiled = try pattern(bigClass)
        #expect(compiled.program.count > 4000)
        #expect(compiled.matches(String(repeating: "a", count: 1_000)) == false)
        let smaller = try pattern("(?:[" + String(repeating: "b", count: 1007) + "a]{10}){4}c")
        #expect(smaller.matches(String(repeating: "ab", count: 20) + "c"))
        #expect(smaller.matches(String(repeating: "ab", count: 19) + "c") == false)
    }

    /// The schema a chain's Bang carries uses that matcher: a writer's 30-byte payload under an
    /// exponential pattern used to stall admission on every node.
    @Test(.timeLimit(.minutes(1))) func aSchemaWithAnExponentialPatternChecksAtOnce() throws {
        let schema = try PayloadSchema(try #require(JSONValue.parse(Array(#"{"type":"string","pattern":"^(a|a)*b$"}"#.utf8))))
        let payload = JSONValue.string(String(repeating: "a", count: 30_000))
        #expect(schema.violation(in: payload)?.contains("must match the pattern") == true)
        #expect(schema.violation(in: .string("aaab")) == nil)
    }

    /// The same answers as Swift's Regex (which the schema used before) on patterns both take,
    /// over many short strings drawn from a few letters.
    @Test func agreesWithSwiftRegexOnOrdinaryPatterns() throws {
        let sources = [
            "^a*$", "ab|ba", "^(ab)+c?$", "b{2,3}", "^[a-c]+$", "[^ab]", #"^\w+$"#, #"a\b"#, "(a|b)*c", "^(a?b)*$",
            "c{2}|^a", "^.{3}$", #"\d|c"#,
        ]
        var generator = SplitMix(seed: 7)
        for source in sources {
            let ours = try pattern(source)
            let theirs = try Regex(source)
            for _ in 0..<400 {
                let length = Int(generator.next() % 7)
                let text = String((0..<length).map { _ in Array("abc1 ")[Int(generator.next() % 5)] })
                #expect(ours.matches(text) == text.contains(theirs), "\(source) against \(text.debugDescription)")
            }
        }
    }
}

/// A small deterministic generator, so a failure names a string that fails again.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
