import Foundation
import QBCCrypto
import Testing

@Suite struct KeyFileTests {
    /// Cheap Argon2id parameters so the suite stays fast; the format is the same.
    static let fast = KeyFile.KDFParameters(opsLimit: 1, memLimit: 8 * 1024 * 1024)

    func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    func bytes(_ object: [String: Any]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object))
    }

    @Test func encryptedRoundTrip() throws {
        let key = SigningKey()
        let file = try KeyFile.encrypted(key, passphrase: SecretBytes(utf8: "correct horse"), parameters: Self.fast)
        #expect(try KeyFile.isEncrypted(file))
        #expect(try KeyFile.summary(of: file).publicKey == key.publicKey)
        let opened = try KeyFile.open(file, passphrase: SecretBytes(utf8: "correct horse"))
        #expect(opened.publicKey == key.publicKey)
        let text = String(decoding: file, as: UTF8.self)
        let seedHex = key.seed().withBytes { Hex.encode($0) }
        #expect(!text.contains(seedHex), "the seed must not appear in an encrypted file")
    }

    @Test func wrongOrMissingPassphrase() throws {
        let file = try KeyFile.encrypted(SigningKey(), passphrase: SecretBytes(utf8: "right"), parameters: Self.fast)
        #expect(throws: KeyFileError.wrongPassphrase) { try KeyFile.open(file, passphrase: SecretBytes(utf8: "wrong")) }
        #expect(throws: KeyFileError.passphraseRequired) { try KeyFile.open(file, passphrase: nil) }
        #expect(throws: KeyFileError.wrongPassphrase) { try KeyFile.open(file, passphrase: SecretBytes(utf8: "")) }
        #expect(throws: KeyFileError.emptyPassphrase) {
            try KeyFile.encrypted(SigningKey(), passphrase: SecretBytes(utf8: ""), parameters: Self.fast)
        }
    }

    @Test func plaintextRoundTrip() throws {
        let key = SigningKey()
        let file = KeyFile.plaintext(key)
        #expect(try !KeyFile.isEncrypted(file))
        #expect(String(decoding: file, as: UTF8.self).contains("INSECURE"))
        #expect(try KeyFile.open(file, passphrase: nil).publicKey == key.publicKey)
    }

    @Test func everyCiphertextByteIsAuthenticated() throws {
        let file = try KeyFile.encrypted(SigningKey(), passphrase: SecretBytes(utf8: "pw"), parameters: Self.fast)
        var object = try object(file)
        let secret = try #require(object["secretKey"] as? String)
        for index in stride(from: 0, to: secret.count, by: 7) {
            var chars = Array(secret)
            chars[index] = chars[index] == "0" ? "1" : "0"
            object["secretKey"] = String(chars)
            #expect(throws: KeyFileError.wrongPassphrase) {
                try KeyFile.open(try bytes(object), passphrase: SecretBytes(utf8: "pw"))
            }
        }
    }

    @Test func swappedPublicKeyIsDetected() throws {
        let file = try KeyFile.encrypted(SigningKey(), passphrase: SecretBytes(utf8: "pw"), parameters: Self.fast)
        var object = try object(file)
        object["publicKey"] = SigningKey().publicKey.hex
        // The public key is associated data, so decryption itself fails.
        #expect(throws: KeyFileError.wrongPassphrase) {
            try KeyFile.open(try bytes(object), passphrase: SecretBytes(utf8: "pw"))
        }
        var plain = try self.object(KeyFile.plaintext(SigningKey()))
        plain["publicKey"] = SigningKey().publicKey.hex
        #expect(throws: KeyFileError.publicKeyMismatch) { try KeyFile.open(try bytes(plain), passphrase: nil) }
    }

    @Test func truncatedAndCorruptedFiles() throws {
        let file = try KeyFile.encrypted(SigningKey(), passphrase: SecretBytes(utf8: "pw"), parameters: Self.fast)
        for length in [0, 1, file.count / 2, file.count - 3] {
            #expect(throws: KeyFileError.self) { try KeyFile.open(Array(file.prefix(length)), passphrase: nil) }
        }
        #expect(throws: KeyFileError.notAKeyFile("not a JSON object")) { try KeyFile.open(Array("[1]".utf8), passphrase: nil) }
        #expect(throws: KeyFileError.notAKeyFile("file is larger than 64 KiB")) {
            try KeyFile.summary(of: [UInt8](repeating: 0x20, count: 70_000))
        }
    }

    @Test func badFieldsAreNamed() throws {
        let base = try object(KeyFile.encrypted(SigningKey(), passphrase: SecretBytes(utf8: "pw"), parameters: Self.fast))
        let cases: [(String, Any, KeyFileError)] = [
            ("version", 2, .unsupportedVersion(2)),
            ("extra", "x", .invalidField("extra", "unknown field in key file")),
            ("protection", "rot13", .invalidField("protection", "unknown protection \"rot13\"")),
            ("nonce", "zz", .invalidField("nonce", "is not valid hex")),
            ("publicKey", "abcd", .invalidField("publicKey", "public key must be 32 bytes, got 2")),
        ]
        for (field, value, expected) in cases {
            var object = base
            object[field] = value
            #expect(throws: expected) { try KeyFile.summary(of: try bytes(object)) }
        }
        var hostile = base
        var kdf = try #require(base["kdf"] as? [String: Any])
        kdf["memLimit"] = UInt64(1) << 40
        hostile["kdf"] = kdf
        #expect(throws: KeyFileError.invalidField("kdf.memLimit", "must be an integer in 8192...1073741824")) {
            try KeyFile.open(try bytes(hostile), passphrase: SecretBytes(utf8: "pw"))
        }
    }
}
