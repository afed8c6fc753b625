import Foundation
import Hummingbird
import Logging
import QBCClient
import QBCCore
import QBCCrypto
import QBCNode
import QBCStorage
import QBCWire

/// `/discover` (the seed's routes, now signed) and the node-to-node `/peer/...` routes, which
/// answer only requests signed by an admitted peer (`qbc/peer-request/v1`). What a peer may ask
/// and what it gets are the network service's; this is the HTTP carrier.
struct PeerController: Sendable {
    let network: NetworkService
    let chains: ChainController
    let clock: any NodeClock
    let metrics: NodeMetrics
    let notices: NoticeLimiter
    let replays = ReplayGuard()

    func addRoutes(to router: Router<QBCRequestContext>) {
        router.get("/discover") { _, _ in
            JSONResponse.make(DiscoverJSON(peers: await network.peerList().map(RegistrationJSON.init), chains: await chains.allStats()))
        }
        router.post("/discover") { request, _ in try await register(request) }
        router.get("/peers") { _, _ in
            JSONResponse.make(PeerStatusListJSON(peers: await network.peerStatuses().map { status in
                PeerStatusJSON(registration: status.peer.registration, state: status.state, lastAnswered: status.peer.lastAnswered)
            }))
        }
        router.post("/peer/chains/:chain/transactions") { request, context in try await transactions(request, context) }
        router.post("/peer/chains/:chain/quants") { request, context in try await quant(request, context) }
        router.post("/peer/chains/:chain/consensus") { request, context in try await consensus(request, context) }
        router.get("/peer/chains/:chain/tip") { request, context in try await tip(request, context) }
        router.get("/peer/chains/:chain/quants") { request, context in try await quants(request, context) }
        router.get("/peer/chains/:chain/headers") { request, context in try await headers(request, context) }
        router.get("/peer/chains/:chain/bang") { request, context in
            let chain = try chains.chain(context)
            _ = try await authenticate(request, limit: 0, chain: chain)
            return JSONResponse.make(BangSubmissionJSON(chain.bang))
        }
        router.post("/peer/bangs") { request, _ in try await bang(request) }
    }

    /// Gossiped transactions: admitted like a client's, but not relayed again (full mesh).
    func transactions(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let chain = try chains.chain(context)
        let (_, body) = try await authenticate(request, limit: APILimits.maxRequestBytes, chain: chain, type: .jsonOrBatch)
        var results: [InjectResultJSON?]
        var parsed: [(Int, Transaction)]
        if try BodyType.jsonOrBatch.isBinary(request) {
            // Nodes since 0.4 gossip binary batches: refused whole when they do not decode.
            let transactions: [Transaction]
            do {
                transactions = try Transaction.decodeBatch(body, limits: chain.rules.transactionLimits, maxCount: APILimits.maxTransactionsPerRequest)
            } catch {
                throw APIError(.badRequest, "malformed", "the binary batch does not decode: \(error) (documentation/protocol.md, \"Binary batches\")")
            }
            results = Array(repeating: nil, count: transactions.count)
            parsed = Array(transactions.enumerated())
        } else {
            let items: [EachDecoded<TransactionJSON>]
            do throws(WireError) { items = try TransactionJSON.list(from: body, maxCount: APILimits.maxTransactionsPerRequest) } catch {
                throw APIError(error)
            }
            // One verdict per element, in order, as for /inject.
            (results, parsed) = ChainController.judge(items, maxPayloadBytes: chain.rules.transactionLimits.maxPayloadBytes)
        }
        for result in results { if let reason = result?.error { metrics.refused(reason, chain: chain, source: .gossip) } }
        let outcomes: [AdmissionOutcome]
        do throws(StorageError) { outcomes = try await network.receivedTransactions(parsed.map(\.1), on: chain) } catch {
            throw APIError.storage(error)
        }
        metrics.count(outcomes, chain: chain, source: .gossip)
        for ((index, _), outcome) in zip(parsed, outcomes) { results[index] = ChainController.result(outcome) }
        return JSONResponse.make(InjectBatchJSON(results: results.compactMap { $0 }))
    }

    /// A Quant pushed by a peer: every rule is checked before it is stored.
    func quant(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let chain = try chains.chain(context)
        let (sender, body) = try await authenticate(request, limit: APILimits.maxRequestBytes, chain: chain, type: .jsonOrQuantPage)
        let quant: Quant
        if try BodyType.jsonOrQuantPage.isBinary(request) {
            // Nodes since 0.4 push a binary page of exactly one Quant.
            let page: [Quant]
            do { page = try QuantPage.decode(body, limits: chain.rules.transactionLimits, maxQuants: 1) } catch {
                throw APIError(.badRequest, "malformed", "the Quant page does not decode: \(error) (documentation/protocol.md, \"Binary Quant pages\")")
            }
            guard let only = page.first else { throw APIError(.badRequest, "malformed", "the Quant page holds no Quant") }
            quant = only
        } else {
            do throws(WireError) {
                let json = try WireJSON.decode(QuantJSON.self, from: body, what: "Quant")
                quant = try json.quant(maxPayloadBytes: chain.rules.transactionLimits.maxPayloadBytes)
            } catch { throw APIError(error) }
        }
        let outcome: ReceiveOutcome
        do { outcome = try await network.received(quant, from: sender) } catch let error as RuleError { throw APIError(error) } catch let error as StorageError {
            throw APIError.storage(error)
        }
        switch outcome {
        case .committed(let stored):
            return JSONResponse.make(PeerQuantResultJSON(status: "committed", message: "Quant \(stored.header.height) committed"))
        case .rejected(let error):
            throw APIError(error)
        case .notOnTip(let height):
            return JSONResponse.make(PeerQuantResultJSON(status: "not_on_tip", message: "this node's tip is at height \(height); catching up"))
        }
    }

    /// A BFT proposal or vote from one of the chain's authorities: checked cheaply here, queued
    /// for the chain's rounds (202).
    func consensus(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let chain = try chains.chain(context)
        let (sender, body) = try await authenticate(request, limit: APILimits.maxRequestBytes, chain: chain)
        let messages: [BFTHeight.Message]
        do throws(WireError) {
            messages = try WireJSON.decode(ConsensusMessagesJSON.self, from: body, what: "consensus messages")
                .messages(maxPayloadBytes: chain.rules.transactionLimits.maxPayloadBytes)
        } catch { throw APIError(error) }
        guard messages.allSatisfy({ $0.chain == chain.id }) else {
            throw APIError(.unprocessableContent, "wrong_chain", "every message must be for chain \(chain.id.hex)")
        }
        let queued: Int
        do { queued = try await network.receivedConsensus(messages, on: chain, from: sender) } catch { throw APIError(error) }
        return JSONResponse.make(
            PeerQuantResultJSON(status: "queued", message: "\(queued) of \(messages.count) queued; the rest are for heights final here"),
            status: .accepted)
    }

    func tip(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let chain = try chains.chain(context)
        _ = try await authenticate(request, limit: 0, chain: chain)
        let tip = try await chains.read { () async throws(StorageError) in try await network.tip(of: chain) }
        return JSONResponse.make(PeerTipJSON(
            height: tip.height, hash: tip.hash.hex, cumulativeWork: tip.cumulativeWork,
            evidence: tip.evidence.isEmpty ? nil : tip.evidence.map(EquivocationJSON.init)))
    }

    /// `GET /peer/chains/{id}/quants?from&limit`: Quants with transactions, bounded by count,
    /// transactions and bytes; `next` gives the following page.
    func quants(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let chain = try chains.chain(context)
        _ = try await authenticate(request, limit: 0, chain: chain)
        let from = UInt64(try ChainController.integer(request, "from", default: 1, range: 1...Int.max))
        let limit = try ChainController.integer(request, "limit", default: 100, range: 1...APILimits.maxPageQuants)
        let height = await chain.peerTip().height
        // Nodes ask for the binary form; the JSON form stays for older nodes and for people.
        if request.headers[.accept]?.contains(QuantPage.contentType) == true {
            let parts = try await chains.read { () async throws(StorageError) in try await network.page(of: chain, from: from, limit: limit) }
            return Response(
                status: .ok, headers: [.contentType: QuantPage.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: QuantPage.encode(parts))))
        }
        let quants = try await chains.read { () async throws(StorageError) in try await network.quants(of: chain, from: from, limit: limit) }
        let next = quants.last.flatMap { $0.header.height < height ? $0.header.height + 1 : nil }
        return JSONResponse.make(ChainPageJSON(chain: chain.id.hex, height: height, from: from, next: next, quants: quants.map(QuantJSON.init(peerForm:))))
    }

    /// `GET /peer/chains/{id}/headers?from&limit`: headers only, for finding a common ancestor.
    func headers(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let chain = try chains.chain(context)
        _ = try await authenticate(request, limit: 0, chain: chain)
        let from = UInt64(try ChainController.integer(request, "from", default: 1, range: 1...Int.max))
        let limit = try ChainController.integer(request, "limit", default: 100, range: 1...NetworkService.maxHeaders)
        let headers = try await chains.read { () async throws(StorageError) in try await network.headers(of: chain, from: from, limit: limit) }
        return JSONResponse.make(HeadersPageJSON(
            headers: headers.map { QuantHeaderJSON(header: $0, cumulativeWork: 0, cumulativeTransactions: 0) }))
    }

    func register(_ request: Request) async throws -> Response {
        let body = try await ChainController.body(request, limit: 64 * 1024)
        let registration: Registration
        do throws(WireError) { registration = try WireJSON.decode(RegistrationJSON.self, from: body, what: "registration").registration() } catch {
            throw APIError(error)
        }
        do throws(RuleError) {
            let list = try await network.admit(registration)
            return JSONResponse.make(DiscoverJSON(peers: list.map(RegistrationJSON.init), chains: await chains.allStats()))
        } catch {
            notices.notice("registration refused", metadata: ["node": "\(registration.node.hex)", "reason": "\(error.code.rawValue)"])
            throw APIError(error)
        }
    }

    /// A new chain's Bang announced by a peer that is one of its nodes.
    func bang(_ request: Request) async throws -> Response {
        let (sender, body) = try await authenticate(request, limit: ChainController.maxBangBody)
        let bang = try ChainController.bang(from: body)
        do { return ChainController.adopted(bang, created: try await network.receivedBang(bang, from: sender)) } catch {
            throw APIError(error)
        }
    }

    /// Asks the network service whether the node the request names may be served (an admitted
    /// peer, with the node role in the chain for a chain's routes), then verifies its signature.
    func authenticate(_ request: Request, limit: Int, chain: ChainService? = nil, type: BodyType = .json) async throws -> (PublicKey, [UInt8]) {
        do { return try await verify(request, limit: limit, chain: chain, type: type) } catch let error as APIError
            where error.status == .unauthorized || error.status == .forbidden
        {
            notices.notice("refused a peer request", metadata: [
                "path": "\(request.uri.path.prefix(200))", "reason": "\(error.code)"])
            throw error
        }
    }

    private func verify(_ request: Request, limit: Int, chain: ChainService?, type: BodyType) async throws -> (PublicKey, [UInt8]) {
        func header(_ name: String) -> String? {
            request.headers.first { $0.name.canonicalName == name.lowercased() }?.value
        }
        guard let nodeText = header(QBCHeader.node), let timeText = header(QBCHeader.timestamp),
            let signatureText = header(QBCHeader.signature),
            let node = try? PublicKey(hex: nodeText), let milliseconds = UInt64(timeText),
            let signature = try? Signature(hex: signatureText)
        else {
            throw APIError(.unauthorized, "missing_signature", "node-to-node requests must be signed (qbc/peer-request/v1, headers QBC-Node, QBC-Timestamp, QBC-Signature)")
        }
        // The node the headers name is looked up first: a stranger's request is refused before
        // its body is read or its signature checked.
        try await authorize(node, chain: chain)
        let body = limit > 0 ? try await ChainController.body(request, limit: limit, type: type) : []
        do throws(RuleError) {
            try PeerRequest.check(
                node: node, timestamp: Timestamp(milliseconds: milliseconds), signature: signature,
                method: request.method.rawValue, path: request.uri.string, body: body, now: clock.now())
        } catch {
            // Stale or badly signed: the request is not authenticated, whatever the rule.
            throw APIError(.unauthorized, error.code.rawValue, error.message)
        }
        switch replays.check(signature, by: node, signedAt: Timestamp(milliseconds: milliseconds), now: clock.now()) {
        case .fresh:
            break
        case .replayed:
            throw APIError(.unauthorized, "replayed_request", "this signed request was served already; sign each request anew (qbc/peer-request/v1)")
        case .overQuota:
            throw APIError(
                .tooManyRequests, "too_many_requests",
                "node \(node.hex) sent more than \(ReplayGuard.perPeer) signed requests in 30 s; slow down")
        }
        return (node, body)
    }

    private func authorize(_ node: PublicKey, chain: ChainService?) async throws {
        do { try await network.authorize(node, chain: chain) } catch {
            switch error {
            case .notAdmitted(let key):
                throw APIError(.forbidden, "not_authorized", "node \(key.hex) is not an admitted peer: register first (POST /discover)")
            case .banned(let key, let until):
                throw APIError(.forbidden, "not_authorized", "node \(key.hex) is banned for misbehaviour until \(until.milliseconds) (ms since the epoch)")
            case .notANode(let key, let name):
                throw APIError(.forbidden, "not_authorized", "node \(key.hex) does not hold the node role in chain \(name)")
            }
        }
    }
}
