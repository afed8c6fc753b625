/// The JSON Schema subset a chain can require of its payloads (documentation/chains.md, "Payload rules"):
/// `type`, `properties`, `required`, `enum`, `const`, `minimum`, `maximum`, `minLength`,
/// `maxLength`, `pattern`, `items`, `additionalProperties`, and boolean schemas. Any other
/// keyword (except annotations such as `title`) is refused when the chain is created, so a
/// chain never appears to enforce a rule it ignores.
public struct PayloadSchema: Sendable {
    /// Words that describe but never constrain.
    static let annotations: Set<String> = ["$schema", "$id", "$comment", "title", "description", "examples", "default"]
    static let keywords: Set<String> = [
        "type", "properties", "required", "enum", "const", "minimum", "maximum", "minLength", "maxLength", "pattern",
        "items", "additionalProperties",
    ]
    static let typeNames: Set<String> = ["null", "boolean", "object", "array", "number", "string", "integer"]
    /// Nesting deeper than this is refused, so validation's recursion is bounded.
    static let maxDepth = 32

    private indirect enum Node: Sendable {
        case always(Bool)
        case rules(Rules)
    }

    private struct Rules: Sendable {
        var types: Set<String>?
        var properties: [String: Node] = [:]
        var required: [String] = []
        var allowed: [JSONValue]?
        var minimum: Double?
        var maximum: Double?
        var minLength: Int?
        var maxLength: Int?
        var pattern: Pattern?
        var items: Node?
        var additionalProperties: Node?
    }

    private let root: Node

    /// Reads a schema; the error says which keyword is wrong and where.
    public init(_ schema: JSONValue) throws(SchemaError) {
        root = try Self.node(schema, at: "#", depth: 0)
    }

    /// Nil when `value` conforms; otherwise the first violation, with its JSON pointer.
    public func violation(in value: JSONValue) -> String? {
        Self.violation(root, value, at: "")
    }

    /// A schema that cannot be used, and why.
    public struct SchemaError: Error, Equatable, Sendable, CustomStringConvertible {
        public let message: String
        init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    // MARK: Reading

    private static func node(_ schema: JSONValue, at path: String, depth: Int) throws(SchemaError) -> Node {
        guard depth <= maxDepth else { throw SchemaError("\(path): schemas nest at most \(maxDepth) deep") }
        switch schema {
        case .bool(let always): return .always(always)
        case .object(let fields): return .rules(try rules(fields, at: path, depth: depth))
        default: throw SchemaError("\(path): a schema is an object or a boolean")
        }
    }

    private static func rules(_ fields: [String: JSONValue], at path: String, depth: Int) throws(SchemaError) -> Rules {
        var rules = Rules()
        for (keyword, value) in fields.sorted(by: { $0.key < $1.key }) {
            let here = "\(path)/\(keyword)"
            if annotations.contains(keyword) { continue }
            guard keywords.contains(keyword) else {
                throw SchemaError("\(here): '\(keyword)' is not in QBC's schema subset (\(keywords.sorted().joined(separator: ", ")))")
            }
            switch (keyword, value) {
            case ("type", .string(let name)) where typeNames.contains(name):
                rules.types = [name]
            case ("type", .array(let names)):
                var set = Set<String>()
                for case .string(let name) in names where typeNames.contains(name) { set.insert(name) }
                guard set.count == names.count, !set.isEmpty else { throw SchemaError("\(here): unknown or repeated type name") }
                rules.types = set
            case ("properties", .object(let properties)):
                for (name, schema) in properties {
                    rules.properties[name] = try node(schema, at: "\(here)/\(name)", depth: depth + 1)
                }
            case ("required", .array(let names)):
                for case .string(let name) in names { rules.required.append(name) }
                guard rules.required.count == names.count else { throw SchemaError("\(here): must be an array of strings") }
            case ("enum", .array(let values)):
                rules.allowed = values
            case ("const", let value):
                rules.allowed = [value]
            case ("minimum", .number(let bound)): rules.minimum = bound
            case ("maximum", .number(let bound)): rules.maximum = bound
            case ("minLength", .number(let bound)): rules.minLength = try count(bound, at: here)
            case ("maxLength", .number(let bound)): rules.maxLength = try count(bound, at: here)
            case ("pattern", .string(let source)):
                rules.pattern = try Pattern(source, at: here)
            case ("items", let schema):
                rules.items = try node(schema, at: here, depth: depth + 1)
            case ("additionalProperties", let schema):
                rules.additionalProperties = try node(schema, at: here, depth: depth + 1)
            default:
                throw SchemaError("\(here): wrong kind of value for '\(keyword)'")
            }
        }
        return rules
    }

    private static func count(_ bound: Double, at path: String) throws(SchemaError) -> Int {
        guard bound >= 0, bound <= Double(Int32.max), bound.rounded() == bound else {
            throw SchemaError("\(path): must be a non-negative integer")
        }
        return Int(bound)
    }

    // MARK: Validating

    private static func violation(_ node: Node, _ value: JSONValue, at pointer: String) -> String? {
        switch node {
        case .always(true): return nil
        case .always(false): return "\(where_(pointer)) is not allowed here"
        case .rules(let rules): return violation(rules, value, at: pointer)
        }
    }

    private static func where_(_ pointer: String) -> String { pointer.isEmpty ? "the payload" : "'\(pointer)'" }


    private static func violation(_ rules: Rules, _ value: JSONValue, at pointer: String) -> String? {
        if let types = rules.types, !types.contains(value.typeName), !(types.contains("integer") && value.isInteger),
            !(types.contains("number") && value.typeName == "number")
        {
            return "\(where_(pointer)) must be of type \(types.sorted().joined(separator: " or ")), not \(value.typeName)"
        }
        if let allowed = rules.allowed, !allowed.contains(value) {
            return "\(where_(pointer)) must be one of the values the chain's schema lists"
        }
        switch value {
        case .number(let number):
            if let minimum = rules.minimum, number < minimum { return "\(where_(pointer)) must be at least \(minimum)" }
            if let maximum = rules.maximum, number > maximum { return "\(where_(pointer)) must be at most \(maximum)" }
        case .string(let text):
            // JSON Schema counts characters as Unicode code points.
            let length = text.unicodeScalars.count
            if let minimum = rules.minLength, length < minimum { return "\(where_(pointer)) must be at least \(minimum) characters" }
            if let maximum = rules.maxLength, length > maximum { return "\(where_(pointer)) must be at most \(maximum) characters" }
            if let pattern = rules.pattern, !pattern.matches(text) {
                return "\(where_(pointer)) must match the pattern \(pattern.source)"
            }
        case .array(let elements):
            if let items = rules.items {
                for (index, element) in elements.enumerated() {
                    if let found = violation(items, element, at: "\(pointer)/\(index)") { return found }
                }
            }
        case .object(let fields):
            for name in rules.required where fields[name] == nil {
                return "\(where_(pointer)) must have the property '\(name)'"
            }
            for (name, field) in fields.sorted(by: { $0.key < $1.key }) {
                let child = "\(pointer)/\(escape(name))"
                if let schema = rules.properties[name] {
                    if let found = violation(schema, field, at: child) { return found }
                } else if let additional = rules.additionalProperties {
                    if let found = violation(additional, field, at: child) { return found }
                }
            }
        case .null, .bool:
            break
        }
        return nil
    }

    /// JSON pointer escaping (RFC 6901).
    private static func escape(_ name: String) -> String {
        name.replacing("~", with: "~0").replacing("/", with: "~1")
    }
}

extension JSONValue {
    /// A number with no fractional part (JSON Schema's "integer", which includes 1.0).
    var isInteger: Bool {
        if case .number(let n) = self { return n.isFinite && n.rounded() == n }
        return false
    }
}
