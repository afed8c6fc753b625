import Hummingbird
import Logging
import Prometheus
import QBCCore
import QBCCrypto
import QBCNode
import QBCStorage
import QBCWire

extension ChainController {
    func stats(_ chain: ChainService) async throws -> Response {
        JSONResponse.make(await statsJSON(chain))
    }

    /// Stats of every chain this node serves.
    func allStats() async -> [StatsJSON] {
        var list = [StatsJSON]()
        for chain in runtime.chains { list.append(await statsJSON(chain)) }
        return list
    }

    func statsJSON(_ chain: ChainService) async -> StatsJSON {
        let s = await chain.stats()
        return StatsJSON(
            chain: s.chain.hex, name: s.name, engine: s.engine, difficultyBits: s.difficultyBits, height: s.height,
            tipHash: s.tipHash.hex, tipTimestamp: s.tipTimestamp.milliseconds, cumulativeWork: s.cumulativeWork,
            transactions: s.transactionCount, mempool: s.mempoolSize, mempoolCapacity: s.mempoolCapacity, peers: await network.peerCount,
            node: runtime.nodeKey.publicKey.hex, version: QBCVersion.current,
            equivocators: s.equivocators.map(\.hex), fork: chain.rules.fork.map(ForkJSON.init),
            finalHeight: chain.engine.commitsAreFinal ? s.height : nil, finalityConflicts: chain.engine.commitsAreFinal ? s.finalityConflicts : nil,
            readersOnly: chain.rules.readersOnly)
    }

    /// `GET /chain?from=H&limit=N`: Quants from height H (default 1), at most N (default 100, at
    /// most 1000), 20,000 transactions and, past the first Quant, 8 MiB of transactions per page;
    /// `next` gives the following page. Streamed (`QuantStream`).
    func page(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let (chain, from, headers) = try await pagedHeaders(request, context)
        let height = await chain.stats().height
        return QuantStream(chain: chain, logger: logger, tipHeight: height).page(headers, from: from, height: height)
    }

    /// The readable chain and the stored headers a `?from=H&limit=N` page names (from 1 and at
    /// most 100 by default, at most 1000).
    func pagedHeaders(_ request: Request, _ context: QBCRequestContext) async throws
        -> (chain: ChainService, from: UInt64, headers: [StoredHeader])
    {
        let chain = try await readable(request, context)
        let from = UInt64(try Self.integer(request, "from", default: 1, range: 1...Int.max))
        let limit = try Self.integer(request, "limit", default: 100, range: 1...APILimits.maxPageQuants)
        return (chain, from, try await read { try await chain.reader.headers(chain: chain.id, from: from, limit: limit) })
    }

    /// `GET /quants/{height-or-hash}`.
    func quant(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let chain = try await readable(request, context)
        let reference = context.parameters.get("ref") ?? ""
        let height: UInt64
        if let number = UInt64(reference) {
            height = number
        } else if let hash = try? Hash(hex: reference) {
            guard let found = try await read({ try await chain.reader.height(ofQuant: hash) }), found.chain == chain.id else {
                throw APIError(.notFound, "not_found", "no Quant with hash \(hash.hex) on chain \(chain.rules.name)")
            }
            height = found.height
        } else {
            throw APIError(.badRequest, "malformed", "a Quant is named by its height (an integer) or its hash (64 hex digits)")
        }
        guard let stored = try await read({ try await chain.reader.header(chain: chain.id, height: height) }) else {
            throw APIError(.notFound, "not_found", "no Quant at height \(height) on chain \(chain.rules.name)")
        }
        return QuantStream(chain: chain, logger: logger, tipHeight: await chain.peerTip().height).quant(stored)
    }

    /// `GET|POST /leap`: from the node's machine, or with a body signed by an admin or authority.
    func leap(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let chain = try chain(context)
        let body = try await Self.body(request, limit: 4096)
        if body.contains(where: { !Self.isJSONSpace($0) }) {
            let signed: LeapRequest
            do throws(WireError) { signed = try WireJSON.decode(LeapRequestJSON.self, from: body, what: "Leap request").leapRequest() } catch {
                throw APIError(error)
            }
            do throws(RuleError) { try signed.check(chain: chain.id, now: clock.now()) } catch { throw APIError(error) }
            guard chain.mayTriggerLeap(signed.signer) else {
                throw APIError(.forbidden, "not_authorized", "\(signed.signer.hex) is neither an admin nor an authority of chain \(chain.rules.name)")
            }
        } else {
            guard context.isLoopback, runtime.settings.allowLoopbackLeap else {
                throw APIError(.forbidden, "not_authorized",
                    "a Leap by request must come from the node's own machine, or be signed by an admin or authority key: qbc leap --node URL --key FILE")
            }
        }
        let outcome: LeapOutcome
        do { outcome = try await chain.leap(now: clock.now()) } catch {
            logger.error("Leap failed", metadata: ["chain": "\(chain.rules.name)", "error": "\(error)"])
            throw APIError.storage(error)
        }
        switch outcome {
        case .sealed(let stored):
            let header = QuantHeaderJSON(header: stored.header, cumulativeWork: stored.cumulativeWork,
                                         cumulativeTransactions: stored.cumulativeTransactions)
            return JSONResponse.make(LeapJSON(
                sealed: true, message: "sealed Quant \(stored.header.height) with \(stored.header.transactionCount) transactions",
                quant: header))
        case .nothingToSeal:
            return JSONResponse.make(LeapJSON(sealed: false, message: "the mempool is empty: nothing to seal", quant: nil))
        case .busy:
            throw APIError(.conflict, "leap_in_progress", "another Leap on this chain is running; retry when it finishes")
        case .notYourTurn(let error):
            throw APIError(error)
        case .superseded:
            return JSONResponse.make(LeapJSON(
                sealed: false, message: "a Quant from a peer arrived first; the transactions wait for the next Leap", quant: nil))
        }
    }
}

/// The version reported by `/stats` and `qbc --version`.
public enum QBCVersion {
    public static let current = "0.4.0"
}
