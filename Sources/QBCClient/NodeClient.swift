public import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization
import NIOHTTP1
public import QBCCore
import QBCCrypto
public import QBCWire

/// A failed call to a node: the HTTP status and the node's `{error, message}`, or a transport failure.
public struct NodeClientError: Error, CustomStringConvertible, Sendable {
    public let status: Int?
    public let code: String
    public let message: String

    public var description: String {
        status.map { "node answered \($0) \(code): \(message)" } ?? "\(code): \(message)"
    }
}

/// A typed client for the QBC node API, on one shared AsyncHTTPClient.
public struct NodeClient: Sendable {
    public let baseURL: String
    /// Path prefix for a namespaced chain (`/chains/{id}`), or "" for the node's default chain.
    public let chainPrefix: String
    let http: HTTPClient
    let timeout: TimeAmount
    /// Signs every request as this node (`qbc/peer-request/v1`), for node-to-node calls.
    let peerKey: SigningKey?
    let clock: @Sendable () -> Timestamp
    /// Why `baseURL` cannot be asked, or nil (`addressProblem`); every request throws it.
    let unusable: String?

    public static let maxResponseBytes = 256 * 1024 * 1024

    /// One client for the process, like `HTTPClient.shared`, but with a short connect timeout:
    /// AsyncHTTPClient retries refused connections until the connect timeout, and an
    /// unreachable node should be reported in seconds, not minutes. Idle connections are let go
    /// after 10 s: a node closes a connection that sends no request for 15 s (`QBC_HEAD_TIMEOUT_MS`),
    /// and a request sent on one it is closing that moment fails ("closed the connection at once").
    public static let sharedHTTPClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: sharedConfiguration)

    static var sharedConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(3), read: .seconds(120)))
        configuration.connectionPool.idleTimeout = .seconds(10)
        return configuration
    }

    public init(
        baseURL: String, chain: String? = nil, http: HTTPClient = NodeClient.sharedHTTPClient, timeoutSeconds: Int64 = 60,
        peerKey: SigningKey? = nil, clock: @escaping @Sendable () -> Timestamp = { Timestamp(milliseconds: 0) }
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        // A name is the user's text: encoded, so that `?` or `/` in it cannot change the path.
        chainPrefix = chain.map { "/chains/\($0.addingPercentEncoding(withAllowedCharacters: Self.segment) ?? $0)" } ?? ""
        self.http = http
        timeout = .seconds(timeoutSeconds)
        self.peerKey = peerKey
        self.clock = clock
        unusable = Self.addressProblem(base)
    }

    /// What may stand unencoded in one path segment.
    static let segment = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#%;"))

    /// Why `url` cannot be a node's address, or nil: it must be http:// or https:// with a host,
    /// and a port, when it names one, of 1 to 65535 (AsyncHTTPClient traps on an IP address with
    /// a larger one, so it is refused before any request).
    public static func addressProblem(_ url: String) -> String? {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = parts.host, !host.isEmpty
        else { return "\"\(url.prefix(200))\" is not a node address: use http://HOST:PORT or https://HOST:PORT" }
        if let port = parts.port, !(1...65535).contains(port) {
            return "\"\(url.prefix(200))\" names port \(port): a port is 1 to 65535"
        }
        return nil
    }

    /// A request for `path` on the node, or `bad_address` when its address cannot be used.
    func request(_ path: String) throws(NodeClientError) -> HTTPClientRequest {
        if let unusable { throw NodeClientError(status: nil, code: "bad_address", message: unusable) }
        return HTTPClientRequest(url: baseURL + path)
    }

    /// Submits one transaction; throws the node's refusal.
    public func submit(_ tx: Transaction) async throws -> InjectResultJSON {
        try await call("POST", chained("/inject"), body: WireJSON.encode(TransactionJSON(tx)), as: InjectResultJSON.self)
    }

    /// Submits many transactions in one request; each gets its own verdict.
    public func submit(batch: [Transaction]) async throws -> InjectBatchJSON {
        try await submit(encodedBatch: Self.encodeBatch(batch))
    }

    /// Submits a batch already encoded with `encodeBatch` (benchmarks pre-encode).
    public func submit(encodedBatch: [UInt8]) async throws -> InjectBatchJSON {
        try await call("POST", chained("/inject"), body: encodedBatch, as: InjectBatchJSON.self)
    }

    /// Submits a binary batch (`Transaction.encodeBatch`): no JSON or base64 on either side.
    public func submit(binaryBatch: [UInt8]) async throws -> InjectBatchJSON {
        try await call(
            "POST", chained("/inject"), body: binaryBatch, headers: [("Content-Type", Transaction.batchContentType)],
            as: InjectBatchJSON.self)
    }

    /// Submits a pre-encoded batch (a JSON array, or binary when `binary`) and reads only the
    /// counts of the answer: for benchmarks and load generators. A single JSON object is not a
    /// batch; its answer has no counts and fails as `bad_response`.
    public func submitCounting(encodedBatch: [UInt8], binary: Bool) async throws -> InjectCountsJSON {
        try await call(
            "POST", chained("/inject"), body: encodedBatch,
            headers: binary ? [("Content-Type", Transaction.batchContentType)] : [], as: InjectCountsJSON.self)
    }

    public static func encodeBatch(_ batch: [Transaction]) -> [UInt8] {
        WireJSON.encode(batch.map(TransactionJSON.init))
    }

    /// Triggers a Leap: unsigned (works from the node's machine) or signed by an admin/authority key.
    public func leap(signedBy key: SigningKey? = nil, chain: ChainID? = nil, now: Timestamp? = nil) async throws -> LeapJSON {
        guard let key, let chain, let now else { return try await call("POST", chained("/leap"), body: nil, as: LeapJSON.self) }
        let request = LeapRequest(chain: chain, timestamp: now, key: key)
        return try await call("POST", chained("/leap"), body: WireJSON.encode(LeapRequestJSON(request)), as: LeapJSON.self)
    }

    public func stats() async throws -> StatsJSON { try await call("GET", chained("/stats"), as: StatsJSON.self) }

    public func page(from: UInt64 = 1, limit: Int = 100) async throws -> ChainPageJSON {
        try await call("GET", chained("/chain?from=\(from)&limit=\(limit)"), as: ChainPageJSON.self)
    }

    public func quant(_ reference: String) async throws -> QuantJSON {
        try await call("GET", chained("/quants/\(reference)"), as: QuantJSON.self)
    }

    /// A read of a readers-only chain: fetches a challenge, proves for this exact request that it
    /// comes from `reader` (`qbc/read-proof/v1`) or, `anonymous`, from one of the chain's readers
    /// without saying which (`qbc/anon-read/v1`, over the chain's read keys), and sends it along.
    /// A node busy checking anonymous proofs answers 503 `busy`: asked again, with a fresh proof,
    /// up to three times a second apart (its `Retry-After`).
    public func provenRead<T: Decodable>(_ path: String, reader: SigningKey, anonymous: Bool = false, as type: T.Type) async throws -> T {
        let fullPath = chained(path)
        var attempt = 0
        while true {
            do {
                return try await call("GET", fullPath, headers: try await proofHeaders(path: fullPath, reader: reader, anonymous: anonymous), as: type)
            } catch let error as NodeClientError where anonymous && error.status == 503 && error.code == "busy" && attempt < 3 {
                attempt += 1
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// The proof headers for one GET of `path` (with its chain prefix and query), from a fresh challenge.
    func proofHeaders(path: String, reader: SigningKey, anonymous: Bool) async throws -> [(String, String)] {
        let challenge = try await self.challenge()
        guard let nonce = try? Hex.decode(challenge.nonce), let chain = try? ChainID(hex: challenge.chain) else {
            throw NodeClientError(status: nil, code: "bad_response", message: "the node sent a malformed challenge")
        }
        guard anonymous else {
            let proof = ReadProof.sign(key: reader, chain: chain, nonce: nonce, method: "GET", path: path)
            return [(QBCHeader.reader, reader.publicKey.hex), (QBCHeader.nonce, challenge.nonce), (QBCHeader.proof, proof.hex)]
        }
        let set = try await readKeys().readKeySet()
        guard let proof = AnonymousRead.prove(ReadSecret(of: reader), set: set, chain: chain, nonce: nonce, method: "GET", path: path) else {
            throw NodeClientError(status: nil, code: "not_in_key_set", message: "this key's read key is not in the chain's key set: register it with qbc read-key register (as a reader)")
        }
        return [(QBCHeader.keySet, set.hash.hex), (QBCHeader.nonce, challenge.nonce), (QBCHeader.anonymousProof, Base64.encode(proof.encoded))]
    }

    /// `GET /challenge`: a single-use nonce for one proven read.
    public func challenge() async throws -> ChallengeJSON { try await call("GET", chained("/challenge"), as: ChallengeJSON.self) }

    /// `GET /read-keys`: the chain's read key set, which anonymous proofs are made over.
    public func readKeys() async throws -> ReadKeySetJSON { try await call("GET", chained("/read-keys"), as: ReadKeySetJSON.self) }

    public func transaction(_ id: String) async throws -> TransactionLookupJSON {
        try await call("GET", chained("/tx/\(id)"), as: TransactionLookupJSON.self)
    }

    public func mempool(limit: Int = 100) async throws -> MempoolJSON {
        try await call("GET", chained("/mempool?limit=\(limit)"), as: MempoolJSON.self)
    }

    // MARK: Network

    /// `POST /discover`: registers and returns the peer's list.
    public func register(_ registration: Registration) async throws -> DiscoverJSON {
        try await call("POST", "/discover", body: WireJSON.encode(RegistrationJSON(registration)), as: DiscoverJSON.self)
    }

    public func discover() async throws -> DiscoverJSON { try await call("GET", "/discover", as: DiscoverJSON.self) }

    public func peerPush(transactions: [Transaction], chain: ChainID) async throws {
        try await peerPush(encodedTransactions: Self.encodeBatch(transactions), chain: chain)
    }

    /// Pushes a batch already encoded with `encodeBatch` (one encoding for every peer). The
    /// answer's verdicts are not read: a pusher has nothing to do with them, and decoding one per
    /// transaction was 1.4% of three PoA nodes' time (issue 18); a refusal of the whole batch
    /// still throws.
    public func peerPush(encodedTransactions body: [UInt8], chain: ChainID) async throws {
        _ = try await exchange("POST", "/peer/chains/\(chain.hex)/transactions", body: body, headers: [])
    }

    /// Pushes a Bang already encoded as `BangSubmissionJSON`.
    public func peerPush(encodedBang body: [UInt8]) async throws {
        _ = try await call("POST", "/peer/bangs", body: body, as: ChainCreatedJSON.self)
    }

    public func peerPush(quant: QuantJSON) async throws -> PeerQuantResultJSON {
        try await peerPush(encodedQuant: WireJSON.encode(quant), chain: quant.header.chain)
    }

    /// Pushes a Quant already encoded as `QuantJSON` (one encoding for every peer).
    public func peerPush(encodedQuant body: [UInt8], chain: String) async throws -> PeerQuantResultJSON {
        try await call("POST", "/peer/chains/\(chain)/quants", body: body, as: PeerQuantResultJSON.self)
    }

    /// Pushes a binary batch (`Transaction.encodeBatch`) as gossip; nodes before 0.4 answer 415.
    public func peerPush(binaryTransactions body: [UInt8], chain: ChainID) async throws {
        _ = try await exchange(
            "POST", "/peer/chains/\(chain.hex)/transactions", body: body, headers: [("Content-Type", Transaction.batchContentType)])
    }

    /// Pushes a binary page of one Quant (`QuantPage`); nodes before 0.4 answer 415.
    public func peerPush(binaryQuant body: [UInt8], chain: ChainID) async throws -> PeerQuantResultJSON {
        try await call(
            "POST", "/peer/chains/\(chain.hex)/quants", body: body, headers: [("Content-Type", QuantPage.contentType)],
            as: PeerQuantResultJSON.self)
    }

    /// Pushes transactions as the binary batch `binary` (their `Transaction.encodeBatch`), or as
    /// JSON to a node before 0.4, which answers 415 to a binary body (decisions D71).
    public func peerPush(transactions: [Transaction], binary: [UInt8], chain: ChainID) async throws {
        do { try await peerPush(binaryTransactions: binary, chain: chain) } catch let error as NodeClientError where error.status == 415 {
            try await peerPush(encodedTransactions: Self.encodeBatch(transactions), chain: chain)
        }
    }

    /// Pushes a Quant as the binary page `binary` (its `QuantPage` of one), or as JSON to a node
    /// before 0.4, which answers 415 to a binary body (decisions D71).
    public func peerPush(quant: Quant, binary: [UInt8]) async throws -> PeerQuantResultJSON {
        do { return try await peerPush(binaryQuant: binary, chain: quant.header.chain) } catch let error as NodeClientError where error.status == 415 {
            return try await peerPush(quant: QuantJSON(peerForm: quant))
        }
    }

    /// Pushes a BFT message already encoded as `ConsensusMessageJSON`.
    public func peerPush(encodedConsensus body: [UInt8], chain: ChainID) async throws {
        _ = try await call("POST", "/peer/chains/\(chain.hex)/consensus", body: body, as: PeerQuantResultJSON.self)
    }

    /// What a peer's answers may hold (D75): a tip with its evidence (64 pairs of headers at
    /// most), a page of headers, a page of Quants (the binary form is bounded by its decoder).
    /// A page is bounded by the largest Quant a chain may allow (256 MiB, served whole) and, as
    /// JSON from a node before 0.4, by the values of 100,000 transactions; anything else a peer
    /// answers (registrations, a Bang, the answer to a push) is far smaller.
    public enum PeerAnswerBounds {
        public static let tipBytes = 1 << 20
        public static let tipValues = 20_000
        public static let headersBytes = 64 << 20
        public static let headersValues = 2_000_000
        public static let pageBytes = maxResponseBytes
        public static let pageValues = 2_500_000
        public static let otherBytes = 16 << 20
        public static let otherValues = 1_000_000
    }

    public func peerTip(chain: ChainID) async throws -> PeerTipJSON {
        try await call("GET", "/peer/chains/\(chain.hex)/tip", as: PeerTipJSON.self,
                       maxBytes: PeerAnswerBounds.tipBytes, maxValues: PeerAnswerBounds.tipValues)
    }

    public func peerQuants(chain: ChainID, from: UInt64, limit: Int) async throws -> ChainPageJSON {
        try await call("GET", "/peer/chains/\(chain.hex)/quants?from=\(from)&limit=\(limit)", as: ChainPageJSON.self,
                       maxBytes: PeerAnswerBounds.pageBytes, maxValues: PeerAnswerBounds.pageValues)
    }

    /// The same page in its binary form (`QuantPage`), decoded under `limits`; a node that answers
    /// JSON (before 0.4) is read as before.
    public func peerQuantPage(chain: ChainID, from: UInt64, limit: Int, limits: TransactionLimits) async throws -> [Quant] {
        let path = "/peer/chains/\(chain.hex)/quants?from=\(from)&limit=\(limit)"
        let (bytes, contentType, status) = try await exchange(
            "GET", path, body: nil, headers: [("Accept", "\(QuantPage.contentType), application/json")], maxBytes: PeerAnswerBounds.pageBytes)
        guard contentType == QuantPage.contentType else {
            let page: ChainPageJSON
            do { page = try WireJSON.decode(ChainPageJSON.self, from: bytes, what: "response", maxValues: PeerAnswerBounds.pageValues) } catch {
                throw NodeClientError(status: status, code: "bad_response", message: "\(error)")
            }
            return try page.quants.map { try $0.quant(maxPayloadBytes: limits.maxPayloadBytes) }
        }
        do { return try QuantPage.decode(bytes, limits: limits, maxQuants: limit) } catch {
            throw NodeClientError(status: status, code: "bad_response", message: "the Quant page does not decode: \(error)")
        }
    }

    public func peerHeaders(chain: ChainID, from: UInt64, limit: Int) async throws -> HeadersPageJSON {
        try await call("GET", "/peer/chains/\(chain.hex)/headers?from=\(from)&limit=\(limit)", as: HeadersPageJSON.self,
                       maxBytes: PeerAnswerBounds.headersBytes, maxValues: PeerAnswerBounds.headersValues)
    }

    public func peerPush(bang: Bang) async throws {
        _ = try await call("POST", "/peer/bangs", body: WireJSON.encode(BangSubmissionJSON(bang)), as: ChainCreatedJSON.self)
    }

    public func peerBang(chain: ChainID) async throws -> Bang {
        try await call("GET", "/peer/chains/\(chain.hex)/bang", as: BangSubmissionJSON.self).decoded()
    }

    // MARK: Chains

    /// `POST /chains`: asks the node to adopt a signed Bang (a new chain or a fork).
    public func create(_ bang: Bang) async throws -> ChainCreatedJSON {
        try await call("POST", "/chains", body: WireJSON.encode(BangSubmissionJSON(bang)), as: ChainCreatedJSON.self)
    }

    public func chains() async throws -> [StatsJSON] { try await call("GET", "/chains", as: [StatsJSON].self) }

    /// The Bang of this client's chain, checked: its bytes must hash to the id the node gives.
    public func bang() async throws -> Bang {
        let info = try await call("GET", chained("/bang"), as: BangJSON.self)
        let bang = try BangSubmissionJSON(bang: info.encoded).decoded()
        guard bang.id.hex == info.id else {
            throw NodeClientError(status: nil, code: "bad_response", message: "the node's Bang bytes do not hash to the chain id it names")
        }
        return bang
    }

    public func members(height: UInt64? = nil) async throws -> MembersJSON {
        try await call("GET", chained("/members") + (height.map { "?height=\($0)" } ?? ""), as: MembersJSON.self)
    }

    /// True when `/health` answers 200.
    /// True when `/health` answers 200 within `timeoutSeconds`.
    public func isHealthy(timeoutSeconds: Int64 = 2) async -> Bool {
        guard var request = try? self.request("/health") else { return false }
        request.method = .GET
        guard let response = try? await http.execute(request, timeout: .seconds(timeoutSeconds)) else { return false }
        _ = try? await response.body.collect(upTo: 4096)
        return response.status == .ok
    }

    /// A transport failure in words a user can act on, with the underlying error kept.
    func explain(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("connectTimeout") { return "no answer within the connect timeout: is the node running, and is the address right? (\(text))" }
        if text.contains("Connection refused") || text.contains("errno: 111") { return "connection refused: nothing listens there (\(text))" }
        if text.contains("remoteConnectionClosed"), baseURL.hasPrefix("http://") {
            return "the node closed the connection at once: if it serves HTTPS, use https:// (\(text))"
        }
        return text
    }

    /// A text answer (`/metrics`), as it comes.
    public func rawText(_ path: String) async throws -> String {
        var request = try self.request(path)
        request.method = .GET
        let response: HTTPClientResponse
        do { response = try await http.execute(request, timeout: timeout) } catch {
            throw NodeClientError(status: nil, code: "unreachable", message: "cannot reach \(baseURL): \(error)")
        }
        return String(decoding: try await Self.collect(response, upTo: Self.maxResponseBytes, by: .now() + timeout, from: baseURL), as: UTF8.self)
    }

    /// A path of the chain this client names (`/chains/{id}/…`), or of the node's default chain.
    func chained(_ path: String) -> String { chainPrefix + path }

    /// One request to `path` as given: JSON in, JSON out; non-2xx answers become `NodeClientError` with the node's message.
    /// `maxBytes` and `maxValues` bound what a peer's answer may make this node hold (D75); a
    /// node-to-node call (signed with `peerKey`) that names neither gets `PeerAnswerBounds.other`.
    public func call<T: Decodable>(
        _ method: String, _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = [], as type: T.Type,
        maxBytes: Int? = nil, maxValues: Int? = nil
    ) async throws -> T {
        let bytes = maxBytes ?? (peerKey == nil ? Self.maxResponseBytes : PeerAnswerBounds.otherBytes)
        let values = maxValues ?? (peerKey == nil ? .max : PeerAnswerBounds.otherValues)
        let (answer, _, status) = try await exchange(method, path, body: body, headers: headers, maxBytes: bytes)
        do { return try WireJSON.decode(T.self, from: answer, what: "response", maxValues: values) } catch {
            throw NodeClientError(status: status, code: "bad_response", message: "\(error)")
        }
    }

    /// One request; the body and content type of a 2xx answer, else `NodeClientError` with the node's message.
    /// The client's timeout covers the whole exchange, the answer's body included (with the time
    /// `minimumBodyRate` allows for what has arrived): a peer that sends its answer a byte at a
    /// time holds nobody for longer. An answer past `maxBytes` is refused.
    func exchange(_ method: String, _ path: String, body: [UInt8]?, headers: [(String, String)], maxBytes: Int = maxResponseBytes)
        async throws -> (body: [UInt8], contentType: String?, status: Int)
    {
        let deadline = NIODeadline.now() + timeout
        var request = try self.request(path)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let peerKey {
            let now = clock()
            let signature = PeerRequest.sign(key: peerKey, timestamp: now, method: method, path: path, body: body ?? [])
            request.headers.add(name: QBCHeader.node, value: peerKey.publicKey.hex)
            request.headers.add(name: QBCHeader.timestamp, value: String(now.milliseconds))
            request.headers.add(name: QBCHeader.signature, value: signature.hex)
        }
        if let body {
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                request.headers.add(name: "Content-Type", value: "application/json")
            }
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        do { response = try await http.execute(request, deadline: deadline) } catch {
            if "\(error)".contains("CERTIFICATE_VERIFY_FAILED") {
                throw NodeClientError(
                    status: nil, code: "untrusted_certificate",
                    message: "\(baseURL) presents a certificate this client does not trust: give its CA with --ca-file or QBC_CA_FILE (\(error))")
            }
            throw NodeClientError(status: nil, code: "unreachable", message: "cannot reach \(baseURL): \(explain(error))")
        }
        let bytes = try await Self.collect(response, upTo: maxBytes, by: deadline, from: baseURL)
        guard (200..<300).contains(Int(response.status.code)) else {
            let failure = try? WireJSON.decode(ErrorJSON.self, from: bytes, what: "error")
            throw NodeClientError(
                status: Int(response.status.code), code: failure?.error ?? "http_error",
                message: failure?.message ?? String(decoding: bytes.prefix(200), as: UTF8.self))
        }
        return (bytes, response.headers.first(name: "Content-Type"), Int(response.status.code))
    }

    private enum Collected: Sendable { case bytes([UInt8]), tooLarge, late }

    /// Bytes of an answer's body received so far, shared by its reader and its watchdog.
    private final class Progress: Sendable {
        let received = Atomic<Int>(0)
    }

    /// After the client's timeout, an answer's body must keep arriving at this rate on average:
    /// a slow link (4 Mbit/s) still delivers a page of any size, a peer that trickles is cut off.
    public static let minimumBodyRate = 512 * 1024

    /// The answer's body, at most `maxBytes`, read by `deadline` plus the time `minimumBodyRate`
    /// allows for what has arrived; else a `NodeClientError`. AsyncHTTPClient's deadline ends
    /// with the answer's head; reading the body stops when its task is cancelled.
    static func collect(_ response: HTTPClientResponse, upTo maxBytes: Int, by deadline: NIODeadline, from node: String) async throws -> [UInt8] {
        let progress = Progress()
        // An announced length past the bound is refused before anything is read.
        let announced = response.headers.first(name: "Content-Length").flatMap { Int($0) } ?? 0
        let collected = try await withThrowingTaskGroup(of: Collected.self) { group in
            group.addTask {
                guard announced <= maxBytes else { return .tooLarge }
                var buffer = ByteBuffer()
                for try await part in response.body {
                    guard buffer.readableBytes + part.readableBytes <= maxBytes else { return .tooLarge }
                    var part = part
                    buffer.writeBuffer(&part)
                    progress.received.store(buffer.readableBytes, ordering: .relaxed)
                }
                return .bytes(Array(buffer.readableBytesView))
            }
            group.addTask {
                while true {
                    let allowed = deadline + .nanoseconds(Int64(progress.received.load(ordering: .relaxed)) * 1_000_000_000 / Int64(minimumBodyRate))
                    let now = NIODeadline.now()
                    if now >= allowed { return .late }
                    try await Task.sleep(for: .nanoseconds(min(250_000_000, (allowed - now).nanoseconds)))
                }
            }
            defer { group.cancelAll() }
            do { return try await group.next() ?? .late } catch let error as CancellationError { throw error } catch {
                // The connection closed (or failed) between the answer's head and its end: a
                // client error like any other, not AsyncHTTPClient's own type.
                // No status: a transport failure, which callers retry (`qbc watch` does), not an answer.
                throw NodeClientError(status: nil, code: "unreachable", message: "\(node) broke off its answer: \(error)")
            }
        }
        switch collected {
        case .bytes(let bytes): return bytes
        case .tooLarge:
            throw NodeClientError(status: Int(response.status.code), code: "too_large", message: "\(node) answered more than \(maxBytes) bytes")
        case .late:
            throw NodeClientError(status: Int(response.status.code), code: "timeout", message: "\(node) did not finish its answer in time")
        }
    }
}
