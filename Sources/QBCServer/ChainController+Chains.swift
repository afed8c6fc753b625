import Hummingbird
import Logging
import QBCCore
import QBCCrypto
import QBCNode
import QBCStorage
import QBCWire

/// Creating chains (`POST /chains`: a Bang or a fork's Bang) and reading their membership.
extension ChainController {
    /// Adopts a signed Bang sent by a client. This node must hold the node role in it; the node
    /// then pushes it to the chain's other nodes.
    func create(_ request: Request) async throws -> Response {
        let body = try await Self.body(request, limit: 2 * BangSubmissionJSON.maxBangBytes + 1024)
        let bang: Bang
        do throws(WireError) { bang = try WireJSON.decode(BangSubmissionJSON.self, from: body, what: "Bang submission").decoded() } catch {
            throw APIError(error)
        }
        let adopted: (chain: ChainService, created: Bool)
        do { adopted = try runtime.directory.adopt(bang) } catch {
            switch error {
            case .rule(let rule): throw APIError(rule)
            case .storage(let storage): throw APIError.storage(storage)
            }
        }
        if adopted.created {
            logger.info("chain created", metadata: ["chain": "\(bang.id.hex)", "name": "\(bang.rules.name)", "creator": "\(bang.creator.hex)"])
        }
        return JSONResponse.make(
            ChainCreatedJSON(chain: bang.id.hex, name: bang.rules.name, status: adopted.created ? "created" : "exists"),
            status: adopted.created ? .created : .ok)
    }

    /// `GET /chains/{id}/members?height=N`: membership after the Quant at N (default: the tip).
    func members(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let chain = try chain(context)
        let tip = await chain.stats().height
        let height = UInt64(try Self.integer(request, "height", default: Int(clamping: tip), range: 0...Int(clamping: tip)))
        let events = try read { try chain.reader.memberEvents(chain: chain.id, atOrBelow: height) }
        return JSONResponse.make(MembersJSON(
            chain: chain.id, height: height, adminQuorum: chain.rules.adminQuorum, membership: chain.rules.membership.applying(events)))
    }
}
