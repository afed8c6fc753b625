import ArgumentParser
import QBCCrypto

struct Keygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate an Ed25519 identity and write it to a key file (mode 0600).",
        discussion: """
            The secret key is encrypted under a passphrase (Argon2id + XChaCha20-Poly1305) taken from \
            --passphrase-file, QBC_PASSPHRASE, or a terminal prompt. Prints the public key.
            """)

    @Option(name: .long, help: "The key file to create.")
    var out: String

    @Flag(name: .long, help: "Store the secret key unencrypted (demo keys only).")
    var insecurePlaintext = false

    @Flag(name: .long, help: "Replace an existing file at --out.")
    var force = false

    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let key = SigningKey()
        let bytes: [UInt8]
        if insecurePlaintext {
            bytes = KeyFile.plaintext(key)
        } else {
            guard let secret = try passphrase.passphrase(prompt: "New passphrase: ", confirm: true) else {
                throw CLIError(
                    "no passphrase: give one with --passphrase-file or QBC_PASSPHRASE, or use --insecure-plaintext for a demo key")
            }
            do { bytes = try KeyFile.encrypted(key, passphrase: secret) } catch { throw CLIError("\(error)") }
        }
        try Files.writeSecret(bytes, to: out, replace: force)
        output.emit(key.publicKey.hex, ["publicKey": key.publicKey.hex, "file": out, "encrypted": !insecurePlaintext])
    }
}
