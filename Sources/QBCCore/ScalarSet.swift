/// A character class of a pattern: `[a-z_]`, `[^\d]`, `\w`, `\p{Lu}`…
struct ScalarSet: Sendable, Equatable {
    enum Item: Sendable, Equatable {
        case range(UInt32, UInt32)
        case digit(negated: Bool)
        case word(negated: Bool)
        case space(negated: Bool)
        case categories(Set<Unicode.GeneralCategory>, negated: Bool)
    }

    var items: [Item]
    var negated = false

    func contains(_ scalar: Unicode.Scalar) -> Bool {
        items.contains { Self.item($0, contains: scalar) } != negated
    }

    private static func item(_ item: Item, contains scalar: Unicode.Scalar) -> Bool {
        switch item {
        case .range(let low, let high): return low <= scalar.value && scalar.value <= high
        case .digit(let negated): return isDigit(scalar) != negated
        case .word(let negated): return isWord(scalar) != negated
        case .space(let negated): return isSpace(scalar) != negated
        case .categories(let categories, let negated): return categories.contains(scalar.properties.generalCategory) != negated
        }
    }

    // ECMA-262's definitions, which are ASCII for \d and \w.
    static func isDigit(_ scalar: Unicode.Scalar) -> Bool { (0x30...0x39).contains(scalar.value) }

    static func isWord(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return isDigit(scalar) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value) || value == 0x5F
    }

    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x20, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF: true
        default: false
        }
    }

    static func isLineTerminator(_ scalar: Unicode.Scalar) -> Bool {
        [0x0A, 0x0D, 0x2028, 0x2029].contains(scalar.value)
    }

    /// `\p{…}` names: general categories, short or long, alone or after `gc=` / `General_Category=`.
    static func categories(named name: String) -> Set<Unicode.GeneralCategory>? {
        var name = Substring(name)
        for prefix in ["General_Category=", "gc="] where name.hasPrefix(prefix) { name = name.dropFirst(prefix.count) }
        if let groups = groups[String(name)] { return groups }
        return single[String(name)].map { [$0] }
    }

    private static let single: [String: Unicode.GeneralCategory] = {
        let pairs: [(String, String, Unicode.GeneralCategory)] = [
            ("Lu", "Uppercase_Letter", .uppercaseLetter), ("Ll", "Lowercase_Letter", .lowercaseLetter),
            ("Lt", "Titlecase_Letter", .titlecaseLetter), ("Lm", "Modifier_Letter", .modifierLetter),
            ("Lo", "Other_Letter", .otherLetter), ("Mn", "Nonspacing_Mark", .nonspacingMark),
            ("Mc", "Spacing_Mark", .spacingMark), ("Me", "Enclosing_Mark", .enclosingMark),
            ("Nd", "Decimal_Number", .decimalNumber), ("Nl", "Letter_Number", .letterNumber),
            ("No", "Other_Number", .otherNumber), ("Pc", "Connector_Punctuation", .connectorPunctuation),
            ("Pd", "Dash_Punctuation", .dashPunctuation), ("Ps", "Open_Punctuation", .openPunctuation),
            ("Pe", "Close_Punctuation", .closePunctuation), ("Pi", "Initial_Punctuation", .initialPunctuation),
            ("Pf", "Final_Punctuation", .finalPunctuation), ("Po", "Other_Punctuation", .otherPunctuation),
            ("Sm", "Math_Symbol", .mathSymbol), ("Sc", "Currency_Symbol", .currencySymbol),
            ("Sk", "Modifier_Symbol", .modifierSymbol), ("So", "Other_Symbol", .otherSymbol),
            ("Zs", "Space_Separator", .spaceSeparator), ("Zl", "Line_Separator", .lineSeparator),
            ("Zp", "Paragraph_Separator", .paragraphSeparator), ("Cc", "Control", .control), ("Cf", "Format", .format),
            ("Cs", "Surrogate", .surrogate), ("Co", "Private_Use", .privateUse), ("Cn", "Unassigned", .unassigned),
        ]
        var table = [String: Unicode.GeneralCategory]()
        for (short, long, category) in pairs {
            table[short] = category
            table[long] = category
        }
        return table
    }()

    private static let groups: [String: Set<Unicode.GeneralCategory>] = {
        let members: [(String, String, String)] = [
            ("L", "Letter", "L"), ("LC", "Cased_Letter", "LuLlLt"), ("M", "Mark", "M"), ("N", "Number", "N"),
            ("P", "Punctuation", "P"), ("S", "Symbol", "S"), ("Z", "Separator", "Z"), ("C", "Other", "C"),
        ]
        var table = [String: Set<Unicode.GeneralCategory>]()
        for (short, long, prefix) in members {
            // Two-letter categories whose names start with the group's letter (or, for LC, are listed).
            let set = Set(single.filter { name, _ in
                name.count == 2 && (prefix.count == 1 ? name.hasPrefix(prefix) : prefix.contains(name))
            }.values)
            table[short] = set
            table[long] = set
        }
        return table
    }()
}
