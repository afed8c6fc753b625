import ArgumentParser
import QBCCrypto

struct Key: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect key files.", subcommands: [Show.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a key file's public key and protection; no passphrase needed.")

        @Argument(help: "The key file.")
        var file: String
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let bytes = try Files.read(file, limit: 64 * 1024)
            let summary: KeyFile.Summary
            do { summary = try KeyFile.summary(of: bytes) } catch { throw CLIError("\(file): \(error)", kind: .badKey) }
            output.emit(
                """
                public key: \(summary.publicKey.hex)
                protection: \(summary.encrypted ? "encrypted (argon2id + xchacha20-poly1305)" : "PLAINTEXT (insecure, demo only)")
                format:     qbc-key version \(summary.version)
                """,
                ["publicKey": summary.publicKey.hex, "encrypted": summary.encrypted, "version": Int(summary.version)])
        }
    }
}
