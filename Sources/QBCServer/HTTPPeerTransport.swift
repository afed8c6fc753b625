import AsyncHTTPClient
import QBCClient
import QBCCore
import QBCCrypto
import QBCNode
import QBCWire

/// `PeerTransport` over HTTP: every request signed as this node, with short timeouts.
struct HTTPPeerTransport: PeerTransport {
    let key: SigningKey
    let clock: any NodeClock
    let maxPayloadBytes: Int
    /// Trusts the consortium's CA for https:// peers when one is configured (`network.caFile`).
    let http: HTTPClient

    /// Pages of Quants may take a while; tips and headers answer at once, and a hung peer must not
    /// hold up a sync round for long.
    func client(_ address: String, timeoutSeconds: Int64 = 10) -> NodeClient {
        let clock = self.clock
        return NodeClient(baseURL: address, http: http, timeoutSeconds: timeoutSeconds, peerKey: key, clock: { clock.now() })
    }

    func register(_ registration: Registration, at address: String) async throws -> [Registration] {
        try await client(address).register(registration).registrations()
    }

    /// Binary for transactions and Quants (a binary batch, a page of one Quant), JSON for Bangs
    /// and consensus messages: encoded once for every peer.
    func prepare(_ push: PeerPush) -> PreparedPush {
        switch push {
        case .transactions(let transactions, _): PreparedPush(push: push, body: Transaction.encodeBatch(transactions))
        case .quant(let quant):
            PreparedPush(push: push, body: QuantPage.encode([QuantPage.Part(quant)]))
        case .bang(let bang): PreparedPush(push: push, body: WireJSON.encode(BangSubmissionJSON(bang)))
        case .consensus(let messages, _): PreparedPush(push: push, body: WireJSON.encode(ConsensusMessagesJSON(messages)))
        }
    }

    /// A node before 0.4 takes only JSON on peer routes and answers 415 to a binary body: it is
    /// sent the JSON form instead (`NodeClient.peerPush`; decisions D71).
    func send(_ prepared: PreparedPush, to peer: Registration) async throws {
        let client = client(peer.address)
        switch prepared.push {
        case .transactions(let transactions, let chain): try await client.peerPush(transactions: transactions, binary: prepared.body, chain: chain)
        case .quant(let quant): _ = try await client.peerPush(quant: quant, binary: prepared.body)
        case .bang: try await client.peerPush(encodedBang: prepared.body)
        case .consensus(_, let chain): try await client.peerPush(encodedConsensus: prepared.body, chain: chain)
        }
    }

    func bang(chain: ChainID, of peer: Registration) async throws -> Bang {
        try await client(peer.address).peerBang(chain: chain)
    }

    func tip(chain: ChainID, of peer: Registration) async throws -> PeerTip {
        let tip = try await client(peer.address, timeoutSeconds: 2).peerTip(chain: chain)
        let evidence = (tip.evidence ?? []).prefix(ChainService.maxEvidence).compactMap { $0.evidence() }
        return PeerTip(height: tip.height, hash: try Hash(hex: tip.hash), cumulativeWork: tip.cumulativeWork, evidence: evidence)
    }

    func headers(chain: ChainID, from height: UInt64, limit: Int, of peer: Registration) async throws -> [QuantHeader] {
        let page = try await client(peer.address, timeoutSeconds: 3).peerHeaders(chain: chain, from: height, limit: limit)
        return try page.headers.prefix(NetworkService.maxHeaders).map { try $0.quantHeader() }
    }

    func quants(chain: ChainID, from height: UInt64, limit: Int, of peer: Registration) async throws -> [Quant] {
        var limits = TransactionLimits.standard
        limits.maxPayloadBytes = maxPayloadBytes
        do { return try await client(peer.address).peerQuantPage(chain: chain, from: height, limit: limit, limits: limits) } catch let error
            as NodeClientError where (error.code == "bad_response" || error.code == "too_large") && (200..<300).contains(error.status ?? 0)
        {
            // A 2xx answer this node cannot read; a peer's own error answer (4xx/5xx) is no offence.
            throw PeerAnswerError("the peer's page of Quants: \(error.message)")
        }
    }
}
