import Foundation

/// Loads JSON test vectors shipped as test-target resources.
public enum Vectors {
    public static func load<T: Decodable>(_ type: T.Type, named name: String, in bundle: Bundle) throws -> T {
        guard let url = bundle.url(forResource: name, withExtension: "json", subdirectory: "Vectors") else {
            throw VectorError.missing(name)
        }
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    /// The stored vectors `name`, and whether `built` encodes to the same JSON (keys sorted). With
    /// `QBC_PRINT_VECTORS` set, prints `built` first (to write a new file).
    public static func stored<T: Codable>(matching built: T, named name: String, in bundle: Bundle) throws -> (stored: T, same: Bool) {
        if ProcessInfo.processInfo.environment["QBC_PRINT_VECTORS"] != nil {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(built), as: UTF8.self))
        }
        let stored = try load(T.self, named: name, in: bundle)
        let canonical = JSONEncoder()
        canonical.outputFormatting = .sortedKeys
        return (stored, try canonical.encode(built) == (try canonical.encode(stored)))
    }

    enum VectorError: Error { case missing(String) }
}
