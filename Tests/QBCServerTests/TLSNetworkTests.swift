import Foundation
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

/// A consortium's own CA, made with the openssl command: its certificate, and one server
/// certificate for 127.0.0.1 signed by it.
struct TestCA {
    let dir: TemporaryDirectory
    var caFile: String { dir.file("ca.pem") }
    var certificate: String { dir.file("node.pem") }
    var key: String { dir.file("node.key") }

    init() async throws {
        dir = try TemporaryDirectory()
        try await Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                          "-subj", "/CN=QBC test CA", "-keyout", dir.file("ca.key"), "-out", dir.file("ca.pem")])
        try await Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=qbc node",
                          "-keyout", dir.file("node.key"), "-out", dir.file("node.csr")])
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: dir.file("san"), atomically: true, encoding: .utf8)
        try await Self.openssl(["x509", "-req", "-in", dir.file("node.csr"), "-CA", dir.file("ca.pem"), "-CAkey", dir.file("ca.key"),
                          "-CAcreateserial", "-days", "2", "-extfile", dir.file("san"), "-out", dir.file("node.pem")])
    }

    static func openssl(_ arguments: [String]) async throws {
        let result = try await CommandRunner.run("/usr/bin/env", ["openssl"] + arguments)
        guard result.status == 0 else { throw OpenSSLFailure(description: "openssl \(arguments[0]) failed: \(result.stderr)") }
    }
}

struct OpenSSLFailure: Error, CustomStringConvertible {
    let description: String
}

@Suite(.serialized) struct TLSNetworkTests {
    @Test func threeNodesOverHTTPSWithTheirOwnCA() async throws {
        let ca = try await TestCA()
        let tls = ["--tls-cert", ca.certificate, "--tls-key", ca.key, "--ca-file", ca.caFile]
        let net = try await TestNetwork(count: 3, extra: tls)
        #expect(net.nodes.allSatisfy { $0.url.hasPrefix("https://") })
        let http = try TrustedClients.client(caFile: ca.caFile)
        let clients = net.nodes.map { NodeClient(baseURL: $0.url, http: http) }
        try await eventually("the nodes registered with each other over HTTPS") {
            for client in clients where try await client.stats().peers < 2 { return false }
            return true
        }
        let writer = try Keys.load("writer1")
        #expect(try await clients[1].submit(batch: (0..<20).map { signed(#"{"tls":\#($0)}"#, chain: net.chain, by: writer) }).admitted == 20)
        try await eventually("the transactions were relayed over HTTPS") {
            for client in clients where try await client.stats().mempool < 20 { return false }
            return true
        }
        #expect(try await clients[2].leap().quant?.transactionCount == 20)
        try await eventually("every node committed the 20 transactions, announced and synced over HTTPS") {
            var tips = Set<String>()
            for client in clients {
                let stats = try await client.stats()
                guard stats.transactions == 20 else { return false }
                tips.insert(stats.tipHash)
            }
            return tips.count == 1
        }

        // Clients: without the CA the certificate is refused, with it (flag or environment) read.
        let url = net.nodes[0].url
        let untrusted = try await CommandRunner.qbc(["stats", "--node", url])
        #expect(untrusted.status != 0)
        #expect(untrusted.stderr.contains("does not trust") && untrusted.stderr.contains("--ca-file"), "\(untrusted.stderr)")
        let trusted = try await CommandRunner.qbc(["stats", "--node", url, "--ca-file", ca.caFile])
        #expect(trusted.status == 0 && trusted.stdout.contains(net.chain.hex), "\(trusted.stderr)")
        #expect(try await CommandRunner.qbc(["stats", "--node", url], environment: ["QBC_CA_FILE": ca.caFile]).status == 0)
        let badCA = try await CommandRunner.qbc(["stats", "--node", url, "--ca-file", ca.key])
        #expect(badCA.status != 0 && badCA.stderr.contains("holds no PEM certificate"), "\(badCA.stderr)")
        // Plain HTTP to the HTTPS port gets no answer.
        let plain = url.replacingOccurrences(of: "https://", with: "http://")
        await #expect(throws: (any Error).self) { _ = try await raw("GET", plain + "/health") }
    }

    @Test func halfATLSConfigurationIsRefusedBeforeAnythingIsWritten() async throws {
        let ca = try await TestCA()
        let dir = try TemporaryDirectory()
        let otherKey = ca.dir.file("ca.key")  // a key, but not the certificate's
        for arguments in [
            ["--tls-cert", ca.certificate], ["--tls-cert", ca.key, "--tls-key", ca.key], ["--tls-cert", ca.certificate, "--tls-key", ca.caFile],
            ["--tls-cert", ca.certificate, "--tls-key", otherKey],
        ] {
            let result = try await CommandRunner.qbc(["node", "--port", "0", "--data", dir.file("data")] + arguments)
            #expect(result.status != 0)
            #expect(result.stderr.contains("TLS") || result.stderr.contains("HTTPS"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("data")), "nothing written to the data folder")
        }
    }
}
