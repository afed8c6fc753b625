import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import QBCCore
import QBCCrypto
import QBCNode
import QBCStorage
import QBCWire

/// The chain routes, served for the default chain at the seed's paths and for every chain
/// under `/chains/{id-or-name}/…`.
struct ChainController: Sendable {
    let runtime: NodeRuntime
    let metrics: NodeMetrics
    let network: NetworkService
    let clock: any NodeClock
    let logger: Logger
    let gate = ReadGate()
    let subscribers: SubscriberCount
    let recentEvents = RecentEventsByChain()

    func addRoutes(to router: Router<QBCRequestContext>) {
        for prefix in ["", "/chains/:chain"] {
            router.post("\(prefix)/inject") { request, context in try await inject(request, context) }
            router.get("\(prefix)/leap") { request, context in try await leap(request, context) }
            router.post("\(prefix)/leap") { request, context in try await leap(request, context) }
            router.get("\(prefix)/chain") { request, context in try await page(request, context) }
            router.get("\(prefix)/headers") { request, context in try await headerPage(request, context) }
            router.get("\(prefix)/governance") { request, context in try await governance(request, context) }
            router.get("\(prefix)/read-keys") { _, context in
                let chain = try chain(context)
                return JSONResponse.make(ReadKeySetJSON(chain: chain.id, height: await chain.stats().height, set: chain.membership.readKeySet))
            }
            router.get("\(prefix)/quants/:ref") { request, context in try await quant(request, context) }
            router.get("\(prefix)/tx/:id") { request, context in try await transaction(request, context) }
            router.get("\(prefix)/stats") { _, context in try await stats(try chain(context)) }
            router.get("\(prefix)/mempool") { request, context in try await mempool(request, context) }
            router.get("\(prefix)/bang") { _, context in JSONResponse.make(BangJSON(try chain(context).bang)) }
            router.get("\(prefix)/members") { request, context in try await members(request, context) }
            router.get("\(prefix)/challenge") { _, context in try challenge(context) }
            router.get("\(prefix)/events") { request, context in try await events(request, context) }
        }
        router.get("/chains") { _, _ in JSONResponse.make(await allStats()) }
        router.get("/search") { request, _ in try await search(request) }
        router.post("/chains") { request, _ in try await create(request) }
    }

    func chain(_ context: QBCRequestContext) throws -> ChainService {
        guard let reference = context.parameters.get("chain") else { return runtime.defaultChain }
        guard let chain = runtime.chain(reference) else {
            throw APIError(.notFound, "unknown_chain", "this node serves no chain with id or name \"\(reference)\"; see GET /chains")
        }
        return chain
    }

    /// The chain, for a route that reads its transactions: on a readers-only chain only with a
    /// valid proof of a reader's key.
    func readable(_ request: Request, _ context: QBCRequestContext) async throws -> ChainService {
        let chain = try chain(context)
        try await gate.admit(request, to: chain, now: clock.now(), source: context.source)
        return chain
    }

    /// `GET /chains/{id}/challenge`: a single-use nonce for a read proof.
    func challenge(_ context: QBCRequestContext) throws -> Response {
        let chain = try chain(context)
        let issued = gate.challenge(chain: chain.id, now: clock.now())
        return JSONResponse.make(ChallengeJSON(chain: chain.id.hex, nonce: Hex.encode(issued.nonce), expires: issued.expires.milliseconds))
    }

    // MARK: Transactions

    func inject(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let chain = try chain(context)
        let binary = try BodyType.jsonOrBatch.isBinary(request)
        let bytes = try await Self.body(request, limit: APILimits.maxRequestBytes, type: .jsonOrBatch)
        if binary { return try await injectBinary(bytes, to: chain) }
        let maxPayload = chain.rules.transactionLimits.maxPayloadBytes
        guard bytes.first(where: { !Self.isJSONSpace($0) }) == UInt8(ascii: "[") else {
            let tx: Transaction
            do throws(WireError) {
                tx = try TransactionJSON.one(from: bytes).transaction(maxPayloadBytes: maxPayload)
            } catch {
                let refusal = APIError(error)
                metrics.refused(refusal.code, chain: chain, source: .client)
                throw refusal
            }
            switch try await admit([tx], to: chain)[0] {
            case .admitted(let id):
                return JSONResponse.make(InjectResultJSON(id: id.hex, status: "admitted"), status: .accepted)
            case .rejected(let id, let error):
                throw APIError(error, id: id?.hex)
            }
        }
        // Each element is judged on its own; only a body that is not a JSON array is refused whole.
        let items: [EachDecoded<TransactionJSON>]
        do throws(WireError) { items = try TransactionJSON.list(from: bytes, maxCount: APILimits.maxTransactionsPerRequest) } catch {
            throw APIError(error)
        }
        var (results, parsed) = Self.judge(items, maxPayloadBytes: maxPayload)
        for result in results { if let reason = result?.error { metrics.refused(reason, chain: chain, source: .client) } }
        let outcomes = try await admit(parsed.map(\.1), to: chain)
        for ((index, _), outcome) in zip(parsed, outcomes) { results[index] = Self.result(outcome) }
        return JSONResponse.make(InjectBatchJSON(results: results.compactMap { $0 }))
    }

    /// Turns each element of a JSON array into a transaction, or into its verdict when it is not
    /// one; the verdicts keep the array's order.
    static func judge(_ items: [EachDecoded<TransactionJSON>], maxPayloadBytes: Int)
        -> (results: [InjectResultJSON?], parsed: [(Int, Transaction)])
    {
        var results = [InjectResultJSON?](repeating: nil, count: items.count)
        var parsed = [(Int, Transaction)]()
        var fields = TransactionJSON.RecentFields()
        for (index, item) in items.enumerated() {
            do throws(WireError) {
                parsed.append((index, try item.value.get().transaction(maxPayloadBytes: maxPayloadBytes, sharing: &fields)))
            } catch {
                let api = APIError(error)
                let id = try? item.value.get().id
                results[index] = InjectResultJSON(id: id ?? nil, status: "rejected", error: api.code, message: api.message)
            }
        }
        return (results, parsed)
    }

    /// A binary batch (`application/vnd.qbc.tx-batch`): refused whole when it does not decode.
    private func injectBinary(_ bytes: [UInt8], to chain: ChainService) async throws -> Response {
        let transactions: [Transaction]
        do {
            transactions = try Transaction.decodeBatch(
                bytes, limits: chain.rules.transactionLimits, maxCount: APILimits.maxTransactionsPerRequest)
        } catch {
            metrics.refused("malformed", chain: chain, source: .client)
            throw APIError(.badRequest, "malformed", "the binary batch does not decode: \(error) (documentation/protocol.md, \"Binary batches\")")
        }
        let outcomes = try await admit(transactions, to: chain)
        return JSONResponse.make(InjectBatchJSON(results: outcomes.map(Self.result)))
    }

    static func result(_ outcome: AdmissionOutcome) -> InjectResultJSON {
        switch outcome {
        case .admitted(let id): InjectResultJSON(id: id.hex, status: "admitted")
        case .rejected(let id, let error):
            InjectResultJSON(id: id?.hex, status: "rejected", error: error.code.rawValue, message: error.message)
        }
    }

    private func admit(_ transactions: [Transaction], to chain: ChainService) async throws -> [AdmissionOutcome] {
        let outcomes: [AdmissionOutcome]
        do { outcomes = try await chain.admit(transactions, now: clock.now()) } catch {
            logger.error("admission failed in storage", metadata: ["error": "\(error)"])
            throw APIError.storage(error)
        }
        metrics.count(outcomes, chain: chain, source: .client)
        return outcomes
    }

    func transaction(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let chain = try await readable(request, context)
        let id = try Self.hash(context.parameters.get("id"), what: "transaction id")
        if let stored = try await read({ try await chain.reader.transaction(id: id, limits: chain.rules.transactionLimits) }),
            stored.transaction.chain == chain.id
        {
            return JSONResponse.make(TransactionLookupJSON(
                status: "committed", transaction: TransactionJSON(stored.transaction), height: stored.height,
                position: stored.position, quant: stored.quantHash.hex,
                finality: Finality(height: stored.height, tipHeight: await chain.peerTip().height, finalCommits: chain.engine.commitsAreFinal),
                lock: Self.lockSummary(stored.transaction)))
        }
        if let waiting = await chain.waitingTransaction(id) {
            return JSONResponse.make(TransactionLookupJSON(
                status: "waiting", transaction: TransactionJSON(waiting), height: nil, position: nil, quant: nil,
                lock: Self.lockSummary(waiting)))
        }
        throw APIError(.notFound, "not_found", "no transaction \(id.hex) on chain \(chain.rules.name)")
    }

    /// `GET /mempool?limit=N`: how many wait, and the first N (at most 1000, and past the first at
    /// most 8 MiB) in admission order, read from the store so a full mempool costs the chain
    /// nothing to list.
    func mempool(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let chain = try await readable(request, context)
        let limit = try Self.integer(request, "limit", default: 100, range: 0...APILimits.maxMempoolListing)
        let stats = await chain.stats()
        let listed = limit == 0 ? [] : try await read {
            try await chain.reader.mempool(chain: chain.id, limit: limit, maxBytes: QuantStream.maxPageBytes, limits: chain.rules.transactionLimits)
        }
        return JSONResponse.make(MempoolJSON(count: stats.mempoolSize, transactions: listed.map(TransactionJSON.init)))
    }

    // MARK: Helpers

    func read<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as StorageError {
            logger.error("storage read failed", metadata: ["error": "\(error)"])
            throw APIError.storage(error)
        }
    }

    /// The request body, at most `limit` bytes. `type`: what the route takes (checked before reading).
    /// Bytes a second a body must average once `bodyGrace` has passed (documentation/network.md).
    static let minimumBodyRate = 32 * 1024
    static let bodyGrace = Duration.seconds(5)

    /// Every body counts against the node's `BodyBudget` while its request is served, and must
    /// arrive at `minimumBodyRate` on average after `bodyGrace`.
    static func body(_ request: Request, limit: Int, type: BodyType = .json) async throws -> [UInt8] {
        _ = try type.isBinary(request)
        let tooLarge = APIError(.contentTooLarge, "too_large", "request body is larger than \(limit) bytes")
        // The HTTP parser takes any length a UInt64 holds: one past Int is past every cap too.
        if let declared = request.headers[.contentLength], Int(declared).map({ $0 > limit }) ?? true { throw tooLarge }
        var collected = ByteBuffer()
        let started = ContinuousClock.now
        for try await chunk in request.body {
            guard chunk.readableBytes <= limit - collected.readableBytes else { throw tooLarge }
            // A body that trickles in holds its share of the budget for nothing: after a grace
            // period it must keep up a modest rate.
            let elapsed = ContinuousClock.now - started
            if elapsed > Self.bodyGrace, Double(collected.readableBytes) < elapsed / .seconds(1) * Double(Self.minimumBodyRate) {
                throw APIError(
                    .requestTimeout, "too_slow",
                    "the request body arrives slower than \(Self.minimumBodyRate >> 10) KiB/s; the node stops waiting for it")
            }
            guard BodyLease.current?.take(chunk.readableBytes) ?? true else {
                throw APIError(
                    .serviceUnavailable, "busy",
                    "the node is receiving \(BodyBudget.shared.limit >> 20) MiB of request bodies already, or \(BodyBudget.shared.perSource >> 20) MiB from this address; retry shortly")
            }
            collected.writeImmutableBuffer(chunk)
        }
        return Array(collected.readableBytesView)
    }

    static func isJSONSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0a || byte == 0x0d || byte == 0x09 }

    static func hash(_ text: String?, what: String) throws -> Hash {
        guard let text, let hash = try? Hash(hex: text) else {
            throw APIError(.badRequest, "malformed", "\(what) must be 64 hex digits")
        }
        return hash
    }

    static func integer(_ request: Request, _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = request.uri.queryParameters[Substring(name)] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw APIError(.badRequest, "malformed", "query parameter \(name) must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }
}
