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
        let peers = book.reachable(now: clock()).filter { members.holds($0.node, .node) }
        let failed = Set(await transport.pushBang(chain.bang, to: peers))
        for peer in peers where !failed.contains(peer.node) { alsoServes[peer.node, default: []].insert(chain.id) }
        backOff(Array(failed))
        logger.info("serving chain", metadata: ["chain": "\(chain.id.hex)", "name": "\(chain.rules.name)", "told": "\(peers.count - failed.count)"])
        await registerEverywhere()
        await catchUp(chain)
    }

    /// A Bang pushed by an admitted peer, which must itself be a node of the new chain.
    public func receivedBang(_ bang: Bang, from sender: PublicKey) throws(AdoptionError) -> Bool {
        guard bang.rules.membership.holds(sender, .node) else {
            throw .rule(RuleError(.notAuthorized, "only the chain's own nodes may announce it; \(sender.hex) is not one"))
        }
        let created = try directory.adopt(bang).created
        alsoServes[sender, default: []].insert(bang.id)
        return created
    }

    /// Asks peers for the Bangs of chains their registrations name and this node does not serve;
    /// a peer answers only when this node holds the node role in that chain.
    func discoverChains() async {
        let now = clock()
        for peer in book.reachable(now: now) {
            for id in peer.chains where directory.chain(id) == nil && (declined[id].map { now >= $0 } ?? true) {
                do {
                    let bang = try await transport.bang(chain: id, of: peer)
                    guard bang.id == id else {
                        book.penalize(peer.node, points: 10, now: clock())
                        continue
                    }
                    _ = try directory.adopt(bang)
                    declined[id] = nil
                } catch {
                    // Not a member, or the parent of a fork is missing: ask again in 5 minutes.
                    declined[id] = Timestamp(milliseconds: now.milliseconds + 300_000)
                }
            }
        }
    }
}
