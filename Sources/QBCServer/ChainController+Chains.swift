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
        let bang = try Self.bang(from: try await Self.body(request, limit: Self.maxBangBody))
        let created: Bool
        do { created = try await runtime.directory.adopt(bang).created } catch { throw APIError(error) }
        if created {
            logger.info("chain created", metadata: ["chain": "\(bang.id.hex)", "name": "\(bang.rules.name)", "creator": "\(bang.creator.hex)"])
        }
        return Self.adopted(bang, created: created)
    }

    /// A Bang submission body (hex of the Bang's bytes) is at most this large.
    static let maxBangBody = 2 * BangSubmissionJSON.maxBangBytes + 1024

    static func bang(from body: [UInt8]) throws -> Bang {
        do throws(WireError) { return try WireJSON.decode(BangSubmissionJSON.self, from: body, what: "Bang submission").decoded() } catch {
            throw APIError(error)
        }
    }

    /// 201 for a chain new here, 200 for one already served.
    static func adopted(_ bang: Bang, created: Bool) -> Response {
        JSONResponse.make(
            ChainCreatedJSON(chain: bang.id.hex, name: bang.rules.name, status: created ? "created" : "exists"),
            status: created ? .created : .ok)
    }

    /// `GET /chains/{id}/members?height=N`: membership after the Quant at N (default: the tip).
    func members(_ request: Request, _ context: QBCRequestContext) async throws -> Response {
        let chain = try chain(context)
        let tip = await chain.stats().height
        let height = UInt64(try Self.integer(request, "height", default: Int(clamping: tip), range: 0...Int(clamping: tip)))
        let events = try await read { try await chain.reader.memberEvents(chain: chain.id, atOrBelow: height) }
        return JSONResponse.make(MembersJSON(
            chain: chain.id, height: height, adminQuorum: chain.rules.adminQuorum, membership: chain.rules.membership.applying(events)))
    }
}
