import Foundation

/// Checks shared by config files and chain spec files: every field known, clear messages for
/// values of the wrong type.
public enum ConfigFields {
    /// A misspelt setting must not be silently ignored. `known` maps each section (dotted path from
    /// the root, "" for the root) to its fields; sections not listed are checked by their own reader.
    public static func check(_ data: Data, known: [String: Set<String>], path: String, prefix: String = "") throws(SettingsError) {
        guard let root = try? JSONSerialization.jsonObject(with: data) else { throw SettingsError("config file \(path): not valid JSON") }
        try check(root, known: known, path: path, prefix: prefix)
    }

    static func check(_ root: Any, known: [String: Set<String>], path: String, prefix: String) throws(SettingsError) {
        var stack: [(String, Any)] = [("", root)]
        while let (section, value) = stack.popLast() {
            if let list = value as? [Any] {
                stack.append(contentsOf: list.map { (section, $0) })
                continue
            }
            guard let object = value as? [String: Any], let allowed = known[section] else { continue }
            for (key, child) in object {
                let name = section.isEmpty ? key : section + "." + key
                guard allowed.contains(key) else { throw SettingsError("config file \(path): unknown setting \"\(prefix)\(name)\"") }
                stack.append((name, child))
            }
        }
    }

    /// Where a decoding error is, in the file's own dotted names.
    public static func describe(_ error: DecodingError, prefix: String = "") -> String {
        func name(_ path: [any CodingKey]) -> String { prefix + path.map(\.stringValue).joined(separator: ".") }
        return switch error {
        case .keyNotFound(let key, let context): "missing \"\(name(context.codingPath + [key]))\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context): "\"\(name(context.codingPath))\" has the wrong type"
        case .dataCorrupted(let context): context.codingPath.isEmpty ? "not valid JSON" : "\"\(name(context.codingPath))\" is invalid"
        @unknown default: "\(error)"
        }
    }
}
