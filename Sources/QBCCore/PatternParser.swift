/// Reads the ECMA-262 pattern syntax JSON Schema uses into a `PatternNode` (documentation/chains.md
/// lists what is taken). What only a backtracking engine can run is refused by name.
struct PatternParser {
    private let text: [Unicode.Scalar]
    private var index = 0
    /// Groups open around the current position: nesting is bounded, so the recursion is too.
    private var depth = 0
    static let maxDepth = 64

    init(_ text: [Unicode.Scalar]) { self.text = text }

    mutating func parse() throws(PatternError) -> PatternNode {
        let node = try alternatives()
        if index < text.count { throw PatternError("unmatched ')' at \(index)") }
        return node
    }

    private var peek: Unicode.Scalar? { index < text.count ? text[index] : nil }

    private mutating func take(_ expected: Unicode.Scalar) -> Bool {
        guard peek == expected else { return false }
        index += 1
        return true
    }

    private mutating func next(_ what: String) throws(PatternError) -> Unicode.Scalar {
        guard let scalar = peek else { throw PatternError("it ends inside \(what)") }
        index += 1
        return scalar
    }

    private mutating func alternatives() throws(PatternError) -> PatternNode {
        var branches = [try sequence()]
        while take("|") { branches.append(try sequence()) }
        return branches.count == 1 ? branches[0] : .alternatives(branches)
    }

    private mutating func sequence() throws(PatternError) -> PatternNode {
        var items = [PatternNode]()
        while let scalar = peek, scalar != "|", scalar != ")" {
            let start = index
            let item = try term()
            items.append(try quantified(item, from: start))
        }
        return items.count == 1 ? items[0] : (items.isEmpty ? .empty : .sequence(items))
    }

    private mutating func term() throws(PatternError) -> PatternNode {
        let scalar = try next("a pattern")
        switch scalar {
        case "^": return .assertion(.start)
        case "$": return .assertion(.end)
        case ".": return .atom(.any)
        case "(": return try group()
        case "[": return .atom(.set(try characterClass()))
        case "\\": return try escape()
        case "*", "+", "?": throw PatternError("'\(scalar)' at \(index - 1) has nothing to repeat")
        case "{" where quantifierAhead(from: index - 1):
            throw PatternError("'{' at \(index - 1) has nothing to repeat")
        default: return .atom(.scalar(scalar))
        }
    }

    private mutating func group() throws(PatternError) -> PatternNode {
        if take("?") {
            if take(":") {
                // A non-capturing group: the same as any group here, since nothing is captured.
            } else if take("<"), let scalar = peek, scalar != "=", scalar != "!" {
                try groupName()
            } else {
                throw PatternError("lookaround and inline flags ('(?=', '(?!', '(?<=', '(?<!', '(?i)') are not supported")
            }
        }
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw PatternError("groups nest at most \(Self.maxDepth) deep") }
        let inner = try alternatives()
        guard take(")") else { throw PatternError("a '(' is not closed") }
        return inner
    }

    /// `name>` of `(?<name>`: ASCII letters, digits, `_` and `$`, not starting with a digit.
    private mutating func groupName() throws(PatternError) {
        let start = index
        while let scalar = peek, scalar.isASCII, ScalarSet.isWord(scalar) || scalar == "$" {
            guard index > start || !ScalarSet.isDigit(scalar) else { break }
            index += 1
        }
        guard index > start, take(">") else {
            throw PatternError("a group name at \(start) must be ASCII letters, digits, '_' or '$', closed with '>'")
        }
    }

    /// `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, each optionally lazy (`?`), which changes nothing
    /// when the only question is whether the string matches.
    private mutating func quantified(_ item: PatternNode, from start: Int) throws(PatternError) -> PatternNode {
        let bounds: (min: Int, max: Int?)
        switch peek {
        case "*":
            index += 1
            bounds = (0, nil)
        case "+":
            index += 1
            bounds = (1, nil)
        case "?":
            index += 1
            bounds = (0, 1)
        case "{" where quantifierAhead(from: index): bounds = try braces()
        default: return item
        }
        if case .assertion = item { throw PatternError("an assertion at \(start) cannot be repeated") }
        _ = take("?")
        if let scalar = peek, "*+?".unicodeScalars.contains(scalar) || (scalar == "{" && quantifierAhead(from: index)) {
            throw PatternError("'\(scalar)' at \(index) repeats a repetition")
        }
        return .repetition(item, min: bounds.min, max: bounds.max)
    }

    /// Whether `{` at `position` starts `{n}`, `{n,}` or `{n,m}`; otherwise it is a literal brace.
    private func quantifierAhead(from position: Int) -> Bool {
        var cursor = position + 1
        var digits = 0
        while cursor < text.count, ScalarSet.isDigit(text[cursor]) { cursor += 1; digits += 1 }
        guard digits > 0, cursor < text.count else { return false }
        if text[cursor] == "}" { return true }
        guard text[cursor] == "," else { return false }
        cursor += 1
        while cursor < text.count, ScalarSet.isDigit(text[cursor]) { cursor += 1 }
        return cursor < text.count && text[cursor] == "}"
    }

    private mutating func braces() throws(PatternError) -> (min: Int, max: Int?) {
        index += 1
        let low = try number()
        var high: Int? = low
        if take(",") { high = peek == "}" ? nil : try number() }
        guard take("}") else { throw PatternError("a repetition is not closed with '}'") }
        if let high, high < low { throw PatternError("a repetition {\(low),\(high)} has its bounds the wrong way round") }
        return (low, high)
    }

    private mutating func number() throws(PatternError) -> Int {
        var value = 0
        while let scalar = peek, ScalarSet.isDigit(scalar) {
            index += 1
            value = value * 10 + Int(scalar.value - 0x30)
            guard value <= Pattern.maxRepeat else { throw PatternError("repetitions count at most \(Pattern.maxRepeat)") }
        }
        return value
    }
}

extension PatternParser {
    /// One member of a class: a scalar (which may start a range) or a set such as `\d`.
    private enum ClassAtom {
        case scalar(Unicode.Scalar)
        case set(ScalarSet)
    }

    /// `[…]` after its `[`.
    private mutating func characterClass() throws(PatternError) -> ScalarSet {
        var set = ScalarSet(negated: take("^"))
        while !take("]") {
            let low = try classAtom()
            guard peek == "-", index + 1 < text.count, text[index + 1] != "]" else {
                switch low {
                case .scalar(let scalar): set.insert(scalar.value...scalar.value)
                case .set(let inner): set.formUnion(inner)
                }
                continue
            }
            index += 1
            guard case .scalar(let from) = low, case .scalar(let to) = try classAtom() else {
                throw PatternError("a range in a class at \(index) must be between two characters")
            }
            guard from <= to else { throw PatternError("a range in a class at \(index) has its ends the wrong way round") }
            set.insert(from.value...to.value)
        }
        return set.normalized()
    }

    private mutating func classAtom() throws(PatternError) -> ClassAtom {
        let scalar = try next("a class '[…]'")
        guard scalar == "\\" else { return .scalar(scalar) }
        // Inside a class \b is a backspace and \- a hyphen.
        if take("b") { return .scalar("\u{8}") }
        if take("-") { return .scalar("-") }
        switch try escape() {
        case .atom(.scalar(let literal)): return .scalar(literal)
        case .atom(.set(let inner)): return .set(inner)
        default: throw PatternError("'\\\(text[index - 1])' cannot be used in a class")
        }
    }

    /// What follows a backslash.
    private mutating func escape() throws(PatternError) -> PatternNode {
        let scalar = try next("an escape")
        switch scalar {
        case "d": return .atom(.set(.digits))
        case "D": return .atom(.set(ScalarSet.digits.complement))
        case "w": return .atom(.set(.words))
        case "W": return .atom(.set(ScalarSet.words.complement))
        case "s": return .atom(.set(.spaces))
        case "S": return .atom(.set(ScalarSet.spaces.complement))
        case "b": return .assertion(.wordBoundary)
        case "B": return .assertion(.notWordBoundary)
        case "p", "P": return .atom(.set(try property(negated: scalar == "P")))
        case "t": return .atom(.scalar("\t"))
        case "n": return .atom(.scalar("\n"))
        case "r": return .atom(.scalar("\r"))
        case "v": return .atom(.scalar("\u{0B}"))
        case "f": return .atom(.scalar("\u{0C}"))
        case "0" where !(peek.map(ScalarSet.isDigit) ?? false): return .atom(.scalar("\u{0}"))
        case "1"..."9", "k": throw PatternError("backreferences ('\\\(scalar)') are not supported")
        case "x": return .atom(.scalar(try hexScalar(digits: 2)))
        case "u" where take("{"): return .atom(.scalar(try braced()))
        case "u": return .atom(.scalar(try utf16Escape()))
        case "c":
            guard let letter = peek, ("a"..."z").contains(letter) || ("A"..."Z").contains(letter),
                let control = Unicode.Scalar(letter.value % 32)
            else { throw PatternError("'\\c' must be followed by a letter") }
            index += 1
            return .atom(.scalar(control))
        default:
            // ASCII punctuation stands for itself. Nothing else does, so that what is accepted
            // never depends on the Unicode tables of the toolchain a node was built with.
            guard scalar.isASCII, scalar.value >= 0x20, scalar.value < 0x7F, !ScalarSet.isWord(scalar) else {
                throw PatternError("'\\\(scalar)' is not an escape patterns know")
            }
            return .atom(.scalar(scalar))
        }
    }

    private mutating func property(negated: Bool) throws(PatternError) -> ScalarSet {
        guard take("{") else { throw PatternError("'\\p' must be followed by '{name}'") }
        var name = ""
        var length = 0
        while let scalar = peek, scalar != "}", length < 64 {
            name.unicodeScalars.append(scalar)
            index += 1
            length += 1
        }
        guard take("}") else { throw PatternError("a '\\p{' is not closed within 64 characters") }
        guard let categories = ScalarSet.categories(named: name) else {
            throw PatternError("'\\p{\(name)}' is not supported: general categories only (L, Lu, Letter, Nd, …)")
        }
        return ScalarSet(categories: categories, negated: negated)
    }

    /// `\uHHHH`, or two of them forming a surrogate pair.
    private mutating func utf16Escape() throws(PatternError) -> Unicode.Scalar {
        let first = try hexValue(digits: 4)
        if (0xD800...0xDBFF).contains(first), index + 1 < text.count, text[index] == "\\", text[index + 1] == "u" {
            let resume = index
            index += 2
            if let second = try? hexValue(digits: 4), (0xDC00...0xDFFF).contains(second),
                let scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
            {
                return scalar
            }
            index = resume
        }
        guard let scalar = Unicode.Scalar(first) else { throw PatternError("\\u\(first) is a lone surrogate, not a character") }
        return scalar
    }

    private mutating func hexScalar(digits: Int) throws(PatternError) -> Unicode.Scalar {
        let value = try hexValue(digits: digits)
        guard let scalar = Unicode.Scalar(value) else { throw PatternError("\\x\(value) is not a Unicode scalar") }
        return scalar
    }

    private mutating func hexValue(digits: Int) throws(PatternError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let digit = peek.flatMap(Self.hexValue) else { throw PatternError("'\\x' and '\\u' take \(digits) hex digits") }
            index += 1
            value = value << 4 | digit
        }
        return value
    }

    /// `\u{…}` after its `{`: hex digits (leading zeros allowed) naming a Unicode scalar.
    private mutating func braced() throws(PatternError) -> Unicode.Scalar {
        var value: UInt32 = 0
        var count = 0
        while let scalar = peek, scalar != "}" {
            guard let digit = Self.hexValue(scalar) else { throw PatternError("'\\u{…}' takes hex digits") }
            index += 1
            count += 1
            value = value << 4 | digit
            guard value <= 0x10FFFF else { throw PatternError("'\\u{…}' names no Unicode scalar (over 10FFFF)") }
        }
        guard count > 0, take("}"), let scalar = Unicode.Scalar(value) else {
            throw PatternError("'\\u{…}' takes hex digits naming a Unicode scalar")
        }
        return scalar
    }

    private static func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
        switch scalar.value {
        case 0x30...0x39: scalar.value - 0x30
        case 0x41...0x46: scalar.value - 0x41 + 10
        case 0x61...0x66: scalar.value - 0x61 + 10
        default: nil
        }
    }
}
