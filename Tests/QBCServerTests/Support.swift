import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import QBCClient
import QBCCore
import QBCCrypto
import QBCHarness
import QBCTestSupport
import QBCWire
import Testing

/// A started node plus what tests need around it.
struct TestNode {
    let dir: TemporaryDirectory
    let node: LocalNode
    let client: NodeClient
    let chain: ChainID

    init(arguments: [String] = [], environment: [String: String] = [:], dir: TemporaryDirectory? = nil) async throws {
        let dir = try dir ?? TemporaryDirectory()
        self.dir = dir
        node = try await NodeProcess.start(dataDirectory: dir.file("data"), arguments: arguments, environment: environment)
        client = NodeClient(baseURL: node.url)
        chain = try ChainID(hex: node.chainID)
    }
}

enum Keys {
    static func load(_ name: String) throws -> SigningKey {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: NodeProcess.demoKey(name))))
        return try KeyFile.open(bytes, passphrase: nil)
    }
}

func now() -> Timestamp { Timestamp(milliseconds: UInt64(Date().timeIntervalSince1970 * 1000)) }

func signed(_ payload: String, chain: ChainID, by key: SigningKey, at time: Timestamp? = nil,
            contentType: String = "application/json") -> Transaction {
    signed(bytes: Array(payload.utf8), chain: chain, by: key, at: time, contentType: contentType)
}

func signed(bytes: [UInt8], chain: ChainID, by key: SigningKey, at time: Timestamp? = nil, contentType: String) -> Transaction {
    Transaction(signing: .init(chain: chain, sender: key.publicKey, nonce: .random(), timestamp: time ?? now(),
                               contentType: contentType, payload: bytes), with: key)
}

/// A raw HTTP call, for requests the typed client would never send.
func raw(_ method: String, _ url: String, body: [UInt8]? = nil, headers: [(String, String)] = []) async throws
    -> (status: Int, error: ErrorJSON?, bytes: [UInt8])
{
    var request = HTTPClientRequest(url: url)
    request.method = .init(rawValue: method)
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
    let (status, _, bytes) = try await exchangeRaw(request)
    return (status, try? JSONDecoder().decode(ErrorJSON.self, from: Data(bytes)), bytes)
}

/// Expects a client call to fail with `status` and `code`.
func expectRefusal(_ status: Int, _ code: String, _ call: () async throws -> some Any,
                   sourceLocation: SourceLocation = #_sourceLocation) async {
    do {
        _ = try await call()
        Issue.record("expected \(status) \(code), got success", sourceLocation: sourceLocation)
    } catch let error as NodeClientError {
        #expect(error.status == status, "\(error)", sourceLocation: sourceLocation)
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

/// Checks a whole chain as an outside client would: links, hashes, Merkle roots, proof of work
/// and every signature. Returns the number of transactions seen.
func verifyWholeChain(_ client: NodeClient, chain: ChainID, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Int {
    var previous = chain
    var expectedHeight: UInt64 = 1
    var from: UInt64? = 1
    var transactions = 0
    var seen = Set<TransactionID>()
    while let start = from {
        let page = try await client.page(from: start, limit: 200)
        for quant in page.quants {
            let header = try quant.header.quantHeader()
            #expect(header.height == expectedHeight, sourceLocation: sourceLocation)
            #expect(header.previous == previous, "broken link at \(header.height)", sourceLocation: sourceLocation)
            #expect(header.hash.hex == quant.header.hash, sourceLocation: sourceLocation)
            if let seal = header.seal {
                #expect(header.proposer.verify(seal, over: header.signingBytes), "bad seal", sourceLocation: sourceLocation)
            } else {
                #expect(header.hash.leadingZeroBits >= Int(header.difficultyBits), sourceLocation: sourceLocation)
            }
            let txs = try quant.transactions.map { try $0.transaction(maxPayloadBytes: 1 << 20) }
            let allSigned = txs.allSatisfy { $0.hasValidSignature }
            #expect(allSigned, sourceLocation: sourceLocation)
            #expect(Merkle.root(txs.map(\.id)) == header.merkleRoot, sourceLocation: sourceLocation)
            #expect(Int(header.transactionCount) == txs.count, sourceLocation: sourceLocation)
            for tx in txs { #expect(seen.insert(tx.id).inserted, "transaction \(tx.id.hex) is committed twice", sourceLocation: sourceLocation) }
            transactions += txs.count
            previous = header.hash
            expectedHeight += 1
        }
        from = page.next
    }
    return transactions
}

/// A raw HTTP call that also returns the answer's headers (names lowercased).
func rawWithHeaders(_ method: String, _ url: String, headers: [(String, String)] = []) async throws
    -> (status: Int, headers: [String: String], bytes: [UInt8])
{
    var request = HTTPClientRequest(url: url)
    request.method = .init(rawValue: method)
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    return try await exchangeRaw(request)
}

/// One exchange through the SDK's shared client, whose idle connections go after 10 s (the node
/// closes them at 15 s; `HTTPClient.shared` kept them 60 s, and one reused as the node closed it
/// fails); a failure names the request, so a test that fails on a transport error says which.
private func exchangeRaw(_ request: HTTPClientRequest) async throws -> (status: Int, headers: [String: String], bytes: [UInt8]) {
    do {
        let response = try await NodeClient.sharedHTTPClient.execute(request, timeout: .seconds(30))
        let bytes = Array(try await response.body.collect(upTo: 64 << 20).readableBytesView)
        var fields = [String: String]()
        for header in response.headers { fields[header.name.lowercased()] = header.value }
        return (Int(response.status.code), fields, bytes)
    } catch {
        throw RawExchangeError(description: "\(request.method.rawValue) \(request.url): \(error)")
    }
}

struct RawExchangeError: Error, CustomStringConvertible {
    let description: String
}

/// A stand-in HTTP server written in Python's standard library (the suite's outside peers): the
/// script prints its port, and is killed when the server is stopped.
struct StandInServer {
    struct NotStarted: Error, CustomStringConvertible { let description: String }

    let port: Int
    private let process: ChildProcess

    static func start(_ script: String, in dir: TemporaryDirectory, arguments: [String] = []) async throws -> StandInServer {
        try script.write(toFile: dir.file("server.py"), atomically: true, encoding: .utf8)
        let process = try ChildProcess(
            executable: "/usr/bin/env", arguments: ["python3", dir.file("server.py")] + arguments,
            environment: ProcessInfo.processInfo.environment, stdout: dir.file("port"), stderr: dir.file("stderr"))
        // Python starts in well under a second alone; the parallel suite can make it many.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let port = (try? String(contentsOfFile: dir.file("port"), encoding: .utf8)).flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
                return StandInServer(port: port, process: process)
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        process.signal(SIGKILL)
        _ = process.waitUntilExit()
        throw NotStarted(description: "the stand-in server did not start: \((try? String(contentsOfFile: dir.file("stderr"), encoding: .utf8)) ?? "")")
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func stop() {
        process.signal(SIGKILL)
        _ = process.waitUntilExit()
    }
}
