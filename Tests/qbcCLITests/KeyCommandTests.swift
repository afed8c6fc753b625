import Foundation
import QBCCrypto
import QBCHarness
import QBCTestSupport
import Testing

@Suite struct KeyCommandTests {
    @Test func keygenPlaintextWritesA0600FileAndPrintsThePublicKey() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("demo.key")
        let result = try await CommandRunner.qbc(["keygen", "--out", path, "--insecure-plaintext"])
        #expect(result.status == 0, "\(result.stderr)")
        let printed = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let file = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(try KeyFile.summary(of: file).publicKey.hex == printed)
        #expect(try KeyFile.open(file, passphrase: nil).publicKey.hex == printed)
    }

    @Test func keygenNeverOverwritesWithoutForce() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("k.key")
        let first = try await CommandRunner.qbc(["keygen", "--out", path, "--insecure-plaintext"])
        let again = try await CommandRunner.qbc(["keygen", "--out", path, "--insecure-plaintext"])
        #expect(again.status != 0)
        #expect(again.stderr.contains("already exists: use --force"))
        let file = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(try KeyFile.summary(of: file).publicKey.hex == first.stdout.trimmingCharacters(in: .newlines))
        let forced = try await CommandRunner.qbc(["keygen", "--out", path, "--insecure-plaintext", "--force"])
        #expect(forced.status == 0)
        #expect(forced.stdout != first.stdout)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func encryptedKeyWithPassphraseFileAndEnvironment() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("enc.key")
        let passFile = dir.file("pass")
        try Data("s3cret words\n".utf8).write(to: URL(fileURLWithPath: passFile))
        let made = try await CommandRunner.qbc(["keygen", "--out", path, "--passphrase-file", passFile])
        #expect(made.status == 0, "\(made.stderr)")
        let show = try await CommandRunner.qbc(["key", "show", path])
        #expect(show.stdout.contains("encrypted"))
        #expect(show.stdout.contains(made.stdout.trimmingCharacters(in: .newlines)))
        let chain = String(repeating: "ab", count: 32)
        let viaEnv = try await CommandRunner.qbc(
            ["tx", "sign", "--key", path, "--chain", chain, "--data", "{}"], environment: ["QBC_PASSPHRASE": "s3cret words"])
        #expect(viaEnv.status == 0, "\(viaEnv.stderr)")
        let wrong = try await CommandRunner.qbc(
            ["tx", "sign", "--key", path, "--chain", chain, "--data", "{}"], environment: ["QBC_PASSPHRASE": "nope"])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("wrong passphrase"))
        let none = try await CommandRunner.qbc(["tx", "sign", "--key", path, "--chain", chain, "--data", "{}"])
        #expect(none.status != 0)
        #expect(none.stderr.contains("the key file is encrypted"))
    }

    @Test func keygenWithoutAnyPassphraseSourceRefuses() async throws {
        let dir = try TemporaryDirectory()
        let result = try await CommandRunner.qbc(["keygen", "--out", dir.file("x.key")])
        #expect(result.status != 0)
        #expect(result.stderr.contains("no passphrase"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("x.key")))
    }

    @Test func malformedKeyFilesGetOneLineErrors() async throws {
        let dir = try TemporaryDirectory()
        let cases: [(String, String)] = [
            ("not json", "not valid JSON"),
            (#"{"format":"qbc-key","version":9}"#, "version 9 is not supported"),
            (#"{"format":"other"}"#, "not a QBC key file"),
        ]
        for (content, message) in cases {
            let path = dir.file("bad.key")
            try Data(content.utf8).write(to: URL(fileURLWithPath: path))
            let result = try await CommandRunner.qbc(["key", "show", path])
            #expect(result.status != 0)
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        let missing = try await CommandRunner.qbc(["key", "show", dir.file("absent.key")])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no such file"))
    }

    @Test(arguments: [["--help"], ["keygen", "--help"], ["key", "show", "--help"], ["tx", "sign", "--help"],
                      ["tx", "verify", "--help"], ["bench", "crypto", "--help"], ["node", "--help"],
                      ["tx", "submit", "--help"], ["tx", "get", "--help"], ["leap", "--help"], ["chain", "--help"],
                      ["stats", "--help"], ["bench", "node", "--help"]])
    func everyCommandHasHelp(_ arguments: [String]) async throws {
        let result = try await CommandRunner.qbc(arguments)
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE:"))
    }
}
