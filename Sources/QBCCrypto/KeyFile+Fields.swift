import Foundation

extension KeyFile {
    /// The checked fields of a key file, before decryption.
    struct Fields {
        struct Sealed {
            let parameters: KDFParameters
            let salt: [UInt8]
            let nonce: [UInt8]
            let ciphertext: [UInt8]
        }

        let publicKey: PublicKey
        /// Present for encrypted files.
        let sealed: Sealed?
        /// The plaintext seed, for plaintext files.
        let secret: [UInt8]

        var isEncrypted: Bool { sealed != nil }

        static let maximumFileBytes = 64 * 1024
        static let encryptedKeys: Set<String> = [
            "format", "version", "algorithm", "publicKey", "protection", "kdf", "nonce", "secretKey",
        ]
        static let plaintextKeys: Set<String> = [
            "format", "version", "algorithm", "publicKey", "protection", "secretKey", "warning",
        ]
        static let kdfKeys: Set<String> = ["algorithm", "opsLimit", "memLimit", "salt"]

        init(parsing bytes: [UInt8]) throws(KeyFileError) {
            guard bytes.count <= Self.maximumFileBytes else { throw .notAKeyFile("file is larger than 64 KiB") }
            let parsed: Any
            do { parsed = try JSONSerialization.jsonObject(with: Data(bytes)) } catch {
                throw .notAKeyFile("not valid JSON")
            }
            guard let object = parsed as? [String: Any] else { throw .notAKeyFile("not a JSON object") }
            guard object["format"] as? String == "qbc-key" else { throw .notAKeyFile("\"format\" is not \"qbc-key\"") }
            guard let version = object["version"] as? Int else { throw .invalidField("version", "must be an integer") }
            guard version == KeyFile.currentVersion else { throw .unsupportedVersion(version) }
            guard object["algorithm"] as? String == "ed25519" else {
                throw .invalidField("algorithm", "must be \"ed25519\"")
            }
            let publicHex = try Self.string(object, "publicKey")
            do { publicKey = try PublicKey(hex: publicHex) } catch { throw .invalidField("publicKey", "\(error)") }

            let protection = try Self.string(object, "protection")
            switch protection {
            case KeyFile.encryptedProtection:
                try Self.rejectUnknown(object, allowed: Self.encryptedKeys, in: "key file")
                sealed = try Self.sealed(object)
                secret = []
            case KeyFile.plaintextProtection:
                try Self.rejectUnknown(object, allowed: Self.plaintextKeys, in: "key file")
                sealed = nil
                secret = try Self.hexField(object, "secretKey", count: SigningKey.seedByteCount)
            default:
                throw .invalidField("protection", "unknown protection \"\(protection)\"")
            }
        }

        private static func sealed(_ object: [String: Any]) throws(KeyFileError) -> Sealed {
            guard let kdf = object["kdf"] as? [String: Any] else { throw .invalidField("kdf", "must be an object") }
            try rejectUnknown(kdf, allowed: kdfKeys, in: "kdf")
            guard kdf["algorithm"] as? String == "argon2id13" else {
                throw .invalidField("kdf.algorithm", "must be \"argon2id13\"")
            }
            guard let ops = kdf["opsLimit"] as? UInt64, KDFParameters.opsRange.contains(ops) else {
                throw .invalidField("kdf.opsLimit", "must be an integer in \(KDFParameters.opsRange)")
            }
            guard let mem = kdf["memLimit"] as? UInt64, KDFParameters.memRange.contains(mem) else {
                throw .invalidField("kdf.memLimit", "must be an integer in \(KDFParameters.memRange)")
            }
            return Sealed(
                parameters: KDFParameters(opsLimit: ops, memLimit: mem),
                salt: try hexField(kdf, "salt", count: KeyFile.saltBytes, path: "kdf.salt"),
                nonce: try hexField(object, "nonce", count: KeyFile.nonceBytes),
                ciphertext: try hexField(
                    object, "secretKey", count: SigningKey.seedByteCount + KeyFile.tagBytes))
        }

        private static func rejectUnknown(
            _ object: [String: Any], allowed: Set<String>, in place: String
        ) throws(KeyFileError) {
            if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
                throw .invalidField(unknown, "unknown field in \(place)")
            }
        }

        private static func string(_ object: [String: Any], _ key: String) throws(KeyFileError) -> String {
            guard let value = object[key] as? String else { throw .invalidField(key, "must be a string") }
            return value
        }

        private static func hexField(
            _ object: [String: Any], _ key: String, count: Int, path: String? = nil
        ) throws(KeyFileError) -> [UInt8] {
            let name = path ?? key
            guard let text = object[key] as? String else { throw .invalidField(name, "must be a hex string") }
            let bytes: [UInt8]
            do { bytes = try Hex.decode(text, what: name) } catch { throw .invalidField(name, "is not valid hex") }
            guard bytes.count == count else { throw .invalidField(name, "must be \(count) bytes, got \(bytes.count)") }
            return bytes
        }
    }
}
