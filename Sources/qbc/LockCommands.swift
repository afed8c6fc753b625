import ArgumentParser
import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCWire

/// `--lock-to`, `--threshold`, `--lock-passphrase-file`: to whom a payload is locked.
struct LockTargetOptions: ParsableArguments {
    @Option(name: .long, help: "A recipient's public key, or its key file (repeatable): each can unlock alone, or any --threshold of them together.")
    var lockTo: [String] = []
    @Option(name: .long, help: "With --lock-to: how many recipients must join to unlock (Shamir k-of-n).") var threshold: Int?
    @Option(name: .long, help: "Lock with the passphrase on the first line of this file instead (Argon2id).")
    var lockPassphraseFile: String?

    var isSet: Bool { !lockTo.isEmpty || lockPassphraseFile != nil }

    /// The target, or nil when no lock was asked for.
    func target() throws -> LockTarget? {
        if let file = lockPassphraseFile {
            guard lockTo.isEmpty, threshold == nil else { throw CLIError("--lock-passphrase-file excludes --lock-to and --threshold") }
            return .passphrase(try PassphraseOptions.read(file), opsLimit: 2, memLimit: 64 << 20)
        }
        guard !lockTo.isEmpty else {
            if threshold != nil { throw CLIError("--threshold needs --lock-to keys") }
            return nil
        }
        var keys = [PublicKey]()
        for text in lockTo {
            let key = try PublicKeyArgument.parse(text, option: "--lock-to")
            keys.append(key)
        }
        if let threshold { return .threshold(threshold, keys) }
        return .recipients(keys)
    }
}

extension Lock {
    /// Locks for the CLI, turning a refusal into one line.
    static func sealForCLI(_ plaintext: [UInt8], contentType: String, chain: ChainID, sender: PublicKey, to target: LockTarget) throws -> Lock {
        do { return try seal(plaintext, contentType: contentType, chain: chain, sender: sender, to: target) } catch {
            throw CLIError("cannot lock: \(error)")
        }
    }
}

struct LockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock", abstract: "Lock a file or stdin into an envelope for one sender's transaction on one chain.",
        discussion: "Writes the envelope's bytes to --out, or its base64 to stdout (documentation/locks.md).")

    @Option(name: .long, help: "The chain id the envelope is bound to.") var chain: String
    @Option(name: .long, help: "The public key of the sender who will submit it.") var sender: String
    @Option(name: .long, help: "The plaintext (default: stdin).") var `in`: String = "-"
    @Option(name: .long, help: "Write the envelope here (default: base64 on stdout).") var out: String?
    @Option(name: .long, help: "The plaintext's content type.") var contentType: String = "application/octet-stream"
    @OptionGroup var target: LockTargetOptions

    func run() async throws {
        guard let chainID = try? ChainID(hex: chain) else { throw CLIError("--chain must be a chain id of 64 hex digits") }
        guard let senderKey = try? PublicKey(hex: sender) else { throw CLIError("--sender must be a public key of 64 hex digits") }
        guard let lockTarget = try target.target() else { throw CLIError("name --lock-to keys or --lock-passphrase-file") }
        let plaintext = try Files.read(`in`, limit: TransactionLimits.absoluteMaxPayloadBytes)
        let lock = try Lock.sealForCLI(plaintext, contentType: contentType, chain: chainID, sender: senderKey, to: lockTarget)
        if let out { try Files.write(lock.encoded, to: out) } else { print(Base64.encode(lock.encoded)) }
    }
}

struct UnlockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock", abstract: "Open a lock: an envelope file, or a transaction's locked payload or fields on a node.",
        discussion: """
            With --node and --tx, fetches the transaction (proving a reader key when the chain is readers-only) and prints \
            its plaintext: the whole payload, or the JSON with every locked field opened. Says exactly why when it cannot.
            """)

    @Option(name: .long, help: "An envelope file (bytes or base64); default: stdin unless --tx.") var `in`: String?
    @Option(
        name: [.long, .customLong("chain-ref")],
        help: "The chain: with --in the id the envelope is for; with --tx an id or name (default: the node's default chain). --chain-ref is an older name.")
    var chain: String?
    @Option(name: .long, help: "The sender the envelope is for (with --in).") var sender: String?
    @OptionGroup var node: NodeOptions
    @Option(name: .long, help: "The transaction id whose payload to unlock.") var tx: String?
    @Option(name: .long, help: "A key file to unlock with (repeatable: threshold locks need k).") var key: [String] = []
    @OptionGroup var passphrase: PassphraseOptions
    @Option(name: .long, help: "Unlock a passphrase lock with the first line of this file.") var lockPassphraseFile: String?
    @Flag(name: .long, help: "With --tx on a readers-only chain: prove only that you are one of its readers, not which.")
    var anonymous = false

    func run() async throws {
        let keys = try key.map { try KeyOptions.load($0, passphrase: passphrase) }
        if let tx {
            let transaction = try await fetch(tx, keys: keys)
            FileHandle.standardOutput.write(Data(try open(transaction, keys: keys)))
            return
        }
        guard let chain, let chainID = try? ChainID(hex: chain), let sender, let senderKey = try? PublicKey(hex: sender) else {
            throw CLIError("with an envelope, give --chain and --sender (the transaction it belongs to), or use --node and --tx")
        }
        let raw = try Files.read(`in` ?? "-", limit: 2 * TransactionLimits.absoluteMaxPayloadBytes)
        let text = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let bytes = (try? Base64.decode(text)) ?? raw
        let lock: Lock
        do { lock = try Lock(decoding: bytes) } catch { throw CLIError(error.message) }
        FileHandle.standardOutput.write(Data(try open(lock, keys: keys, chain: chainID, sender: senderKey)))
    }

    private func fetch(_ id: String, keys: [SigningKey]) async throws -> Transaction {
        let client = try node.client(chain: chain)
        let lookup: TransactionLookupJSON
        do { lookup = try await client.transaction(id) } catch let error as NodeClientError where error.code == "proof_required" {
            guard let reader = keys.first else { throw CLIError("\(error.message); give a reader's --key") }
            lookup = try await callNode { try await client.provenRead("/tx/\(id)", reader: reader, anonymous: anonymous, as: TransactionLookupJSON.self) }
        } catch let error as NodeClientError {
            throw CLIError(error)
        }
        do { return try lookup.transaction.transaction(maxPayloadBytes: TransactionLimits.absoluteMaxPayloadBytes) } catch {
            throw CLIError("the node sent a malformed transaction: \(error)")
        }
    }

    private func open(_ tx: Transaction, keys: [SigningKey]) throws -> [UInt8] {
        if tx.contentType == Lock.contentType {
            let lock: Lock
            do { lock = try Lock(decoding: tx.payload) } catch { throw CLIError(error.message) }
            return try open(lock, keys: keys, chain: tx.chain, sender: tx.sender)
        }
        guard var object = (try? JSONSerialization.jsonObject(with: Data(tx.payload))) as? [String: Any] else {
            throw CLIError("transaction \(tx.id.hex) carries no lock (content type \(tx.contentType))")
        }
        var opened = 0
        for (name, value) in object {
            guard let text = value as? String, text.hasPrefix(PayloadRules.lockedValuePrefix),
                let bytes = try? Base64.decode(String(text.dropFirst(PayloadRules.lockedValuePrefix.count)))
            else { continue }
            let lock: Lock
            do { lock = try Lock(decoding: bytes) } catch { throw CLIError("field \(name): \(error.message)") }
            let plaintext = try open(lock, keys: keys, chain: tx.chain, sender: tx.sender, field: name)
            object[name] = (try? JSONSerialization.jsonObject(with: Data(plaintext), options: .fragmentsAllowed)) ?? String(decoding: plaintext, as: UTF8.self)
            opened += 1
        }
        guard opened > 0 else { throw CLIError("transaction \(tx.id.hex) has no locked fields") }
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) + [0x0a]
    }

    private func open(_ lock: Lock, keys: [SigningKey], chain: ChainID, sender: PublicKey, field: String? = nil) throws -> [UInt8] {
        let prefix = field.map { "field \($0): " } ?? ""
        do {
            if let file = lockPassphraseFile {
                return try lock.open(passphrase: try PassphraseOptions.read(file), chain: chain, sender: sender)
            }
            guard !keys.isEmpty else { throw CLIError("\(prefix)give the --key of a recipient, or --lock-passphrase-file") }
            return try lock.open(with: keys, chain: chain, sender: sender)
        } catch let error as LockError {
            throw CLIError("\(prefix)cannot unlock: \(error)")
        }
    }
}
