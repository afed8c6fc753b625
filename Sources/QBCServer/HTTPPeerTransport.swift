import QBCClient
import QBCCore
import QBCCrypto
import QBCNode
import QBCWire

/// `PeerTransport` over HTTP: every request signed as this node, with short timeouts.
struct HTTPPeerTransport: PeerTransport {
    let key: SigningKey
    let clock: @Sendable () -> Timestamp
    let maxPayloadBytes: Int

    func client(_ address: String) -> NodeClient {
        NodeClient(baseURL: address, timeoutSeconds: 10, peerKey: key, clock: clock)
    }

    func register(_ registration: Registration, at address: String) async throws -> [Registration] {
        try await client(address).register(registration).registrations()
    }

    func pushTransactions(_ transactions: [Transaction], chain: ChainID, to peers: [Registration]) async -> [PublicKey] {
        guard !peers.isEmpty else { return [] }
        let body = NodeClient.encodeBatch(transactions)
        return await fanOut(peers) { try await $0.peerPush(encodedTransactions: body, chain: chain) }
    }

    func pushQuant(_ quant: Quant, to peers: [Registration]) async -> [PublicKey] {
        guard !peers.isEmpty else { return [] }
        let body = WireJSON.encode(QuantCoding.json(quant))
        return await fanOut(peers) { _ = try await $0.peerPush(encodedQuant: body, chain: quant.header.chain.hex) }
    }

    func pushBang(_ bang: Bang, to peers: [Registration]) async -> [PublicKey] {
        guard !peers.isEmpty else { return [] }
        return await fanOut(peers) { try await $0.peerPush(bang: bang) }
    }

    func bang(chain: ChainID, of peer: Registration) async throws -> Bang {
        try await client(peer.address).peerBang(chain: chain)
    }

    /// Calls every peer at once; returns those whose call failed.
    private func fanOut(_ peers: [Registration], _ call: @escaping @Sendable (NodeClient) async throws -> Void) async -> [PublicKey] {
        await withTaskGroup(of: PublicKey?.self) { group in
            for peer in peers {
                let client = client(peer.address)
                group.addTask {
                    do { try await call(client); return nil } catch { return peer.node }
                }
            }
            var failed = [PublicKey]()
            for await key in group { if let key { failed.append(key) } }
            return failed
        }
    }

    func tip(chain: ChainID, of peer: Registration) async throws -> PeerTip {
        let tip = try await client(peer.address).peerTip(chain: chain)
        return PeerTip(height: tip.height, hash: try Hash(hex: tip.hash), cumulativeWork: tip.cumulativeWork)
    }

    func quants(chain: ChainID, from height: UInt64, limit: Int, of peer: Registration) async throws -> [Quant] {
        let page = try await client(peer.address).peerQuants(chain: chain, from: height, limit: limit)
        return try page.quants.map { try $0.quant(maxPayloadBytes: maxPayloadBytes) }
    }
}

/// Quant ↔ JSON for peers (cumulative figures are the sender's view and are not trusted).
enum QuantCoding {
    static func json(_ quant: Quant) -> QuantJSON {
        QuantJSON(
            header: QuantHeaderJSON(header: quant.header, cumulativeWork: 0, cumulativeTransactions: 0),
            transactions: quant.transactions.map(TransactionJSON.init))
    }
}
