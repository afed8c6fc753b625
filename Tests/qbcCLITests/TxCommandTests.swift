import Foundation
import QBCCrypto
import QBCHarness
import QBCTestSupport
import Testing

@Suite struct TxCommandTests {
    let chain = String(repeating: "5a", count: 32)

    func demoKey(in dir: TemporaryDirectory) async throws -> String {
        let path = dir.file("writer.key")
        let result = try await CommandRunner.qbc(["keygen", "--out", path, "--insecure-plaintext"])
        try #require(result.status == 0)
        return path
    }

    @Test func signThenVerify() async throws {
        let dir = try TemporaryDirectory()
        let key = try await demoKey(in: dir)
        let out = dir.file("tx.json")
        let signed = try await CommandRunner.qbc(
            ["tx", "sign", "--key", key, "--chain", chain, "--data", #"{"temperature":21.5}"#, "--out", out])
        #expect(signed.status == 0, "\(signed.stderr)")
        let id = signed.stdout.trimmingCharacters(in: .newlines)
        let verified = try await CommandRunner.qbc(["tx", "verify", out])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("valid: transaction \(id)"))
        let viaStdin = try await CommandRunner.qbc(["tx", "verify", "-"], stdin: Array(try Data(contentsOf: URL(fileURLWithPath: out))))
        #expect(viaStdin.status == 0)
    }

    @Test func payloadFromFileKeepsExactBytes() async throws {
        let dir = try TemporaryDirectory()
        let key = try await demoKey(in: dir)
        let blob = dir.file("blob.bin")
        let bytes = SecureRandom.bytes(300)
        try Data(bytes).write(to: URL(fileURLWithPath: blob))
        let signed = try await CommandRunner.qbc(
            ["tx", "sign", "--key", key, "--chain", chain, "--data", "@" + blob, "--content-type", "application/octet-stream"])
        #expect(signed.status == 0, "\(signed.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(signed.stdout.utf8)) as? [String: Any])
        #expect(object["payload"] as? String == Base64.encode(bytes))
    }

    @Test func tamperedTransactionsFailVerification() async throws {
        let dir = try TemporaryDirectory()
        let key = try await demoKey(in: dir)
        let signed = try await CommandRunner.qbc(["tx", "sign", "--key", key, "--chain", chain, "--data", #"{"n":1}"#])
        var object = try #require(try JSONSerialization.jsonObject(with: Data(signed.stdout.utf8)) as? [String: Any])
        object.removeValue(forKey: "id")
        let mutations: [(String, Any)] = [
            ("payload", Base64.encode(Array(#"{"n":2}"#.utf8))),
            ("timestamp", 12345),
            ("chain", String(repeating: "00", count: 32)),
            ("nonce", String(repeating: "00", count: 16)),
            ("contentType", "text/plain"),
            ("sender", SigningKey().publicKey.hex),
        ]
        for (field, value) in mutations {
            var tampered = object
            tampered[field] = value
            let path = dir.file("t.json")
            try JSONSerialization.data(withJSONObject: tampered).write(to: URL(fileURLWithPath: path))
            let result = try await CommandRunner.qbc(["tx", "verify", path])
            #expect(result.status != 0, "tampered \(field) accepted")
            #expect(result.stderr.contains("signature does not verify"), "\(field): \(result.stderr)")
        }
    }

    @Test func badInputGetsClearErrors() async throws {
        let dir = try TemporaryDirectory()
        let key = try await demoKey(in: dir)
        let cases: [([String], String)] = [
            (["tx", "sign", "--key", key, "--chain", "xyz", "--data", "{}"], "--chain must be a chain id of 64 hex digits"),
            (["tx", "sign", "--key", key, "--chain", chain, "--data", "{oops"], "not valid JSON"),
            (["tx", "sign", "--key", key, "--chain", chain, "--data", String(repeating: "1", count: 70_000)], "the limit is 65536"),
            (["tx", "sign", "--key", dir.file("none.key"), "--chain", chain, "--data", "{}"], "no such file"),
            (["tx", "verify", dir.file("none.json")], "no such file"),
        ]
        for (arguments, message) in cases {
            let result = try await CommandRunner.qbc(arguments)
            #expect(result.status != 0)
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let unknown = dir.file("unknown.json")
        try Data(#"{"chain":"00","surprise":1}"#.utf8).write(to: URL(fileURLWithPath: unknown))
        let result = try await CommandRunner.qbc(["tx", "verify", unknown])
        #expect(result.status != 0)
        #expect(result.stderr.contains("unknown field \"surprise\""))
    }
}
