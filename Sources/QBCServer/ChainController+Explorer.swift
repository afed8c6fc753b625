import Foundation
import Hummingbird
import QBCCore
import QBCCrypto
import QBCNode
import QBCStorage
import QBCWire

/// Reads an explorer needs and a full page of Quants would make costly: headers alone, the
/// membership changes, and how a locked payload is locked.
extension ChainController {
    /// `GET /headers?from=H&limit=N`: headers from height H (default 1), at most N (default
    /// 100, at most 1000), with finality; readers-only chains need a reader's proof.
    func headerPage(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let (chain, from, headers) = try await pagedHeaders(request, context)
        let tip = await chain.peerTip().height
        let last = headers.last?.header.height
        return JSONResponse.make(HeaderPageJSON(
            chain: chain.id, height: tip, from: from, next: last.flatMap { $0 < tip ? $0 + 1 : nil },
            headers: headers.map { QuantHeaderJSON($0, tipHeight: tip, finalCommits: chain.engine.commitsAreFinal) }))
    }

    /// `GET /governance`: the latest membership changes (at most 1000), oldest first. Public like
    /// `/members`: who may do what on a chain is not its content.
    func governance(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let chain = try chain(context)
        let history = try await read { try await chain.reader.memberHistory(chain: chain.id, limit: GovernanceJSON.maxChanges + 1) }
        let shown = history.suffix(GovernanceJSON.maxChanges)
        return JSONResponse.make(GovernanceJSON(
            chain: chain.id, changes: shown.map { MemberChangeJSON(height: $0.height, event: $0.event) },
            truncated: history.count > shown.count))
    }

    /// How a locked payload is locked (method, holders, inner content type); nil for any other
    /// payload or an envelope that does not decode. Nothing is opened.
    static func lockSummary(_ transaction: Transaction) -> LockSummaryJSON? {
        guard transaction.contentType == Lock.contentType, let lock = try? Lock(decoding: transaction.payload) else { return nil }
        return LockSummaryJSON(lock)
    }
}

extension ChainController {
    /// `GET /search?q=`: what a transaction id, Quant hash, chain id, height or chain name names
    /// on this node, in one request. Readers-only chains answer for their name and id only: a
    /// hit on their content would tell a stranger it exists.
    func search(_ request: Request) async throws -> Response {
        let query = (request.uri.queryParameters.get("q") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !query.isEmpty, query.utf8.count <= 128 else {
            throw APIError(.badRequest, "malformed", "search takes ?q= with a transaction id or Quant hash (64 hex digits), a height, or a chain name")
        }
        var hits = [SearchHitJSON]()
        let open = runtime.chains.filter { !$0.rules.readersOnly }
        if let chain = runtime.chain(query) { hits.append(SearchHitJSON(kind: "chain", chain: chain.id, ref: chain.id.hex)) }
        if let height = UInt64(query), height > 0 {
            for chain in open where await chain.stats().height >= height {
                hits.append(SearchHitJSON(kind: "quant", chain: chain.id, ref: String(height)))
            }
        } else if let hash = try? Hash(hex: query) {
            // Stored transactions decode under the absolute ceiling whatever limits are passed.
            if let stored = try await read({ try await runtime.store.transaction(id: hash, limits: .standard)?.transaction.chain }),
                open.contains(where: { $0.id == stored })
            {
                hits.append(SearchHitJSON(kind: "transaction", chain: stored, ref: hash.hex))
            }
            for chain in open where await chain.waitingTransaction(hash) != nil {
                hits.append(SearchHitJSON(kind: "transaction", chain: chain.id, ref: hash.hex))
            }
            if let found = try await read({ try await runtime.store.height(ofQuant: hash) }), open.contains(where: { $0.id == found.chain }) {
                hits.append(SearchHitJSON(kind: "quant", chain: found.chain, ref: hash.hex))
            }
        }
        return JSONResponse.make(SearchJSON(query: query, results: hits))
    }
}
