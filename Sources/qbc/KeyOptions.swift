import ArgumentParser
import Foundation
import QBCCrypto

/// Where a passphrase comes from: `--passphrase-file`, then `QBC_PASSPHRASE`, then a terminal prompt.
struct PassphraseOptions: ParsableArguments {
    @Option(name: .long, help: "Read the key's passphrase from the first line of this file.")
    var passphraseFile: String?

    /// A passphrase from the file or the environment only (never a prompt), for unattended use.
    func unattended() throws -> SecretBytes? {
        guard passphraseFile != nil || ProcessInfo.processInfo.environment["QBC_PASSPHRASE"] != nil else { return nil }
        return try passphrase(prompt: "")
    }

    /// The passphrase, or nil when none is available and no terminal can ask for it.
    func passphrase(prompt: String, confirm: Bool = false) throws -> SecretBytes? {
        if let passphraseFile { return try Self.read(passphraseFile) }
        if let fromEnvironment = ProcessInfo.processInfo.environment["QBC_PASSPHRASE"] {
            return SecretBytes(utf8: fromEnvironment)
        }
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        let first = try Self.prompt(prompt)
        if confirm {
            let second = try Self.prompt("Repeat passphrase: ")
            let same = first.withBytes { a in second.withBytes { b in ConstantTime.equal(Array(a), Array(b)) } }
            guard same else { throw CLIError("the two passphrases differ") }
        }
        return first
    }

    /// The first line of a passphrase file.
    static func read(_ path: String) throws -> SecretBytes {
        var bytes = try Files.read(path, limit: 4096)
        if let newline = bytes.firstIndex(where: { $0 == 0x0a || $0 == 0x0d }) { bytes.removeSubrange(newline...) }
        return SecretBytes(consuming: &bytes)
    }

    private static func prompt(_ text: String) throws -> SecretBytes {
        guard let raw = getpass(text) else { throw CLIError("could not read a passphrase from the terminal") }
        let length = strlen(raw)
        var bytes = [UInt8](UnsafeRawBufferPointer(start: raw, count: length))
        memset(raw, 0, length)
        return SecretBytes(consuming: &bytes)
    }
}

/// `--key FILE` plus its passphrase options.
struct KeyOptions: ParsableArguments {
    @Option(name: .long, help: "The key file to sign with (made by `qbc keygen`).")
    var key: String

    @OptionGroup var passphrase: PassphraseOptions

    /// Opens the key file, asking for a passphrase only when it is encrypted.
    func load() throws -> SigningKey { try Self.load(key, passphrase: passphrase) }

    /// Opens any key file with these passphrase options (e.g. an approving admin's).
    static func load(_ path: String, passphrase: PassphraseOptions) throws -> SigningKey {
        let bytes = try Files.read(path, limit: 64 * 1024)
        do {
            let secret = try KeyFile.isEncrypted(bytes)
                ? passphrase.passphrase(prompt: "Passphrase for \(path): ") : nil
            return try KeyFile.open(bytes, passphrase: secret)
        } catch let error as KeyFileError {
            throw CLIError("\(path): \(error)", kind: .badKey)
        }
    }
}

/// A public key given on the command line: 64 hex digits, or a key file (its public key is read
/// from the file's header, without its passphrase).
enum PublicKeyArgument {
    static func parse(_ text: String, option: String) throws -> PublicKey {
        if let key = try? PublicKey(hex: text) { return key }
        guard FileManager.default.fileExists(atPath: text) else {
            throw CLIError("\(option) \(text) is neither a public key (64 hex digits) nor a key file")
        }
        let bytes = try Files.read(text, limit: 64 * 1024)
        if let summary = try? KeyFile.summary(of: bytes) { return summary.publicKey }
        let trimmed = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let key = try? PublicKey(hex: trimmed) else {
            throw CLIError("\(option) \(text) is a file but neither a key file nor a public key (64 hex digits)")
        }
        return key
    }
}
