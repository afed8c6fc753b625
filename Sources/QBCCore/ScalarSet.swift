/// A character class of a pattern: `[a-z_]`, `[^\d]`, `\w`, `\p{Lu}`… Kept as sorted, merged
/// ranges and at most two sets of general categories, so testing a scalar costs a binary search
/// and two lookups however many items the class was written with.
struct ScalarSet: Sendable, Equatable {
    /// Sorted, disjoint and not adjacent, once `normalized()`.
    private(set) var ranges: [ClosedRange<UInt32>] = []
    /// `\p{…}`: scalars of these categories.
    private(set) var categories: Set<Unicode.GeneralCategory> = []
    /// `\P{…}`: scalars of any category but these (several in one class: the categories none of
    /// them excludes, i.e. the intersection); nil when the class has none.
    private(set) var exceptCategories: Set<Unicode.GeneralCategory>?
    var negated = false

    init(ranges: [ClosedRange<UInt32>] = [], negated: Bool = false) {
        self.ranges = ranges
        self.negated = negated
    }

    init(categories: Set<Unicode.GeneralCategory>, negated: Bool) {
        if negated { exceptCategories = categories } else { self.categories = categories }
    }

    static let digits = ScalarSet(ranges: [0x30...0x39])
    static let words = ScalarSet(ranges: [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
    static let spaces = ScalarSet(ranges: [
        0x09...0x0D, 0x20...0x20, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029, 0x202F...0x202F,
        0x205F...0x205F, 0x3000...0x3000, 0xFEFF...0xFEFF,
    ])

    func contains(_ scalar: Unicode.Scalar) -> Bool {
        // The category is a table lookup: only classes with `\p`/`\P` pay for it.
        let held = inRanges(scalar.value) || (usesCategories && isInCategories(scalar.properties.generalCategory))
        return held != negated
    }

    private var usesCategories: Bool { !categories.isEmpty || exceptCategories != nil }

    private func isInCategories(_ category: Unicode.GeneralCategory) -> Bool {
        categories.contains(category) || (exceptCategories.map { !$0.contains(category) } ?? false)
    }

    private func inRanges(_ value: UInt32) -> Bool {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < value { low = middle + 1 } else { high = middle }
        }
        return low < ranges.count && ranges[low].contains(value)
    }

    /// Adds what `other` holds (`other` is not negated: class escapes such as `\D` are turned
    /// into ranges first, by `complement`).
    mutating func formUnion(_ other: ScalarSet) {
        ranges += other.ranges
        categories.formUnion(other.categories)
        if let except = other.exceptCategories { exceptCategories = exceptCategories?.intersection(except) ?? except }
    }

    mutating func insert(_ range: ClosedRange<UInt32>) { ranges.append(range) }

    /// The scalars a range-only set does not hold, as ranges (for `\D`, `\W`, `\S` in a class).
    var complement: ScalarSet {
        var result = [ClosedRange<UInt32>]()
        var next: UInt32 = 0
        for range in normalized().ranges {
            if range.lowerBound > next { result.append(next...(range.lowerBound - 1)) }
            next = range.upperBound + 1
        }
        if next <= 0x10FFFF { result.append(next...0x10FFFF) }
        return ScalarSet(ranges: result)
    }

    /// The same set with its ranges sorted and merged.
    func normalized() -> ScalarSet {
        var copy = self
        copy.ranges = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = copy.ranges.last, range.lowerBound <= last.upperBound &+ 1 {
                copy.ranges[copy.ranges.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                copy.ranges.append(range)
            }
        }
        return copy
    }

    // ECMA-262's definitions, which are ASCII for \d and \w.
    static func isDigit(_ scalar: Unicode.Scalar) -> Bool { (0x30...0x39).contains(scalar.value) }

    static func isWord(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return isDigit(scalar) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value) || value == 0x5F
    }

    static func isLineTerminator(_ scalar: Unicode.Scalar) -> Bool {
        [0x0A, 0x0D, 0x2028, 0x2029].contains(scalar.value)
    }

    /// `\p{…}` names: general categories, short or long, alone or after `gc=` / `General_Category=`.
    static func categories(named name: String) -> Set<Unicode.GeneralCategory>? {
        var name = Substring(name)
        if let prefix = ["General_Category=", "gc="].first(where: { name.hasPrefix($0) }) { name = name.dropFirst(prefix.count) }
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
