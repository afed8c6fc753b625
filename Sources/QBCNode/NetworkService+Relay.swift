import QBCStorage
import Logging
import QBCCore
import QBCCrypto

/// One peer's outbound queue: bounded, oldest dropped first, drained by its own task, so a dead
/// or slow peer delays no other peer. What is dropped still reaches the peer by sync.
final class PeerLink: Sendable {
    let peer: PublicKey
    let queue: AsyncStream<PreparedPush>
    private let sink: AsyncStream<PreparedPush>.Continuation

    /// Pushes waiting per peer at most.
    static let capacity = 256

    init(peer: PublicKey) {
        self.peer = peer
        (queue, sink) = AsyncStream.makeStream(of: PreparedPush.self, bufferingPolicy: .bufferingNewest(Self.capacity))
    }

    func enqueue(_ push: PreparedPush) { sink.yield(push) }
    func close() { sink.finish() }
}

extension NetworkService {
    /// Reachable peers that serve `chain` and hold the node role in it now (a member removed by
    /// governance gets nothing more).
    func peers(serving chain: ChainID) -> [Registration] {
        guard let membership = directory.chain(chain)?.membership else { return [] }
        return book.reachable(now: now()).filter { peer in
            (peer.chains.contains(chain) || alsoServes[peer.node]?.contains(chain) == true) && membership.holds(peer.node, .node)
        }
    }

    /// Queues a push for every peer of `chain` (only its authorities: BFT messages); encoded once.
    func relay(_ push: PeerPush, chain: ChainID, authoritiesOnly: Bool = false) {
        var peers = peers(serving: chain)
        if authoritiesOnly, let membership = directory.chain(chain)?.membership {
            peers.removeAll { !membership.holds($0.node, .authority) }
        }
        enqueue(push, to: peers)
    }

    func enqueue(_ push: PeerPush, to peers: [Registration]) {
        guard !peers.isEmpty else { return }
        let prepared = transport.prepare(push)
        for peer in peers { link(to: peer.node).enqueue(prepared) }
    }

    private func link(to peer: PublicKey) -> PeerLink {
        if let link = links[peer] { return link }
        let link = PeerLink(peer: peer)
        links[peer] = link
        spawnSink.yield(.link(link))
        return link
    }

    /// Sends one peer's pushes in order, skipping them while the peer backs off after a failure.
    nonisolated func drain(_ link: PeerLink) async {
        for await push in link.queue {
            guard let peer = await reachablePeer(link.peer) else { continue }
            // A delivery proves the peer reachable again: without it, failures would add up over
            // a long run until every push waited a minute (BFT votes cannot wait that long).
            do {
                try await transport.send(push, to: peer)
                await delivered(link.peer)
            } catch {
                logger.trace("push failed", metadata: ["peer": "\(link.peer.hex.prefix(8))", "error": "\(error)"])
                await backOff(link.peer)
            }
        }
    }

    private func delivered(_ key: PublicKey) { book.succeeded(key, now: now()) }

    private func reachablePeer(_ key: PublicKey) -> Registration? {
        guard book.isReachable(key, now: now()) else { return nil }
        return book.peers[key]?.registration
    }
}
