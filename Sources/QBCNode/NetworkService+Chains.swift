import Logging
public import QBCCore
public import QBCCrypto

/// How chains spread: a node that adopts a new chain pushes its Bang to the peers that hold the
/// node role in it; a node that was away learns of it from peers' registrations and asks for the
/// Bang. Peers serve a Bang (and anything else of a chain) only to the chain's node members.
extension NetworkService {
    /// A chain adopted here (from a client's Bang or a peer's): tell its other nodes, register
    /// again so every peer's view of this node names the new chain, then sync.
    func adopted(_ chain: ChainService) async {
        let members = chain.membership
        let peers = book.reachable(now: now()).filter { members.holds($0.node, .node) }
        enqueue(.bang(chain.bang), to: peers)
        // A peer that gets the Bang serves the chain from then on; until its next registration
        // says so, this is how relaying knows.
        for peer in peers { alsoServes[peer.node, default: []].insert(chain.id) }
        logger.info("serving chain", metadata: ["chain": "\(chain.id.hex)", "name": "\(chain.rules.name)", "told": "\(peers.count)"])
        await registerEverywhere()
        await catchUp(chain)
    }

    /// A Bang pushed by an admitted peer, which must itself be a node of the new chain.
    public func receivedBang(_ bang: Bang, from sender: PublicKey) async throws(AdoptionError) -> Bool {
        guard bang.rules.membership.holds(sender, .node) else {
            throw .rule(RuleError(.notAuthorized, "only the chain's own nodes may announce it; \(sender.hex) is not one"))
        }
        let created = try await directory.adopt(bang).created
        alsoServes[sender, default: []].insert(bang.id)
        return created
    }

    /// Asks peers for the Bangs of chains their registrations name and this node does not serve;
    /// a peer answers only when this node holds the node role in that chain.
    func discoverChains() async {
        let now = self.now()
        for peer in book.reachable(now: now) {
            for id in peer.chains where directory.chain(id) == nil && (declined[id].map { now >= $0 } ?? true) {
                let bang: Bang
                do { bang = try await transport.bang(chain: id, of: peer) } catch {
                    // Unreachable, or the peer does not count this node as one of the chain's:
                    // ask again at the next round.
                    continue
                }
                guard bang.id == id else {
                    await penalize(peer.node, reason: "served a Bang that is not the chain asked for")
                    continue
                }
                do {
                    _ = try await directory.adopt(bang)
                    declined[id] = nil
                } catch {
                    // Not a member, or the parent of a fork is missing: ask again in 5 minutes.
                    declined[id] = Timestamp(milliseconds: now.milliseconds + 300_000)
                }
            }
        }
        declined = declined.filter { now < $0.value }
    }
}
