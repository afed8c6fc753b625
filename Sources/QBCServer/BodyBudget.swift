import Hummingbird
import Synchronization

/// The bytes of request bodies the node holds at once, over every connection. Each route bounds
/// one body; without a bound on all of them together, a stranger sending sixty 64 MiB bodies at
/// once made a node take 4 GB. One address may hold half of it: five slow bodies from a stranger
/// used to fill it all, and members' submissions got 503 for as long as it kept them coming
/// (decisions D77). A body that would pass either bound is refused with 503 `busy`.
final class BodyBudget: Sendable {
    /// Four of the largest bodies (`APILimits.maxRequestBytes`) at once, two of them from one address.
    static let shared = BodyBudget(limit: 4 * APILimits.maxRequestBytes)

    let limit: Int
    var perSource: Int { limit / 2 }
    /// Bytes held in all, and by each address holding any (as many entries as requests at most).
    private let used = Mutex((total: 0, bySource: [String: Int]()))

    init(limit: Int) { self.limit = limit }

    /// Takes `bytes` more for a request that holds `held`; when they do not fit, gives the
    /// `held` back in the same step (the request is refused, and its body dropped), so that
    /// another body growing at the same time does not see them still taken: three 60 MiB bodies
    /// from one address refused two where one was enough (the attack review, 5 runs of 6).
    func take(_ bytes: Int, holding held: Int = 0, source: String) -> Bool {
        used.withLock { used in
            let mine = used.bySource[source, default: 0]
            guard bytes <= limit - used.total, bytes <= perSource - mine else {
                Self.give(held, source: source, from: &used)
                return false
            }
            used.total += bytes
            used.bySource[source] = mine + bytes
            return true
        }
    }

    func give(_ bytes: Int, source: String) {
        used.withLock { Self.give(bytes, source: source, from: &$0) }
    }

    private static func give(_ bytes: Int, source: String, from used: inout (total: Int, bySource: [String: Int])) {
        used.total = max(0, used.total - bytes)
        let left = used.bySource[source, default: 0] - bytes
        used.bySource[source] = left > 0 ? left : nil
    }

    /// Bytes held now (the `qbc_request_body_bytes` gauge).
    var inUse: Int { used.withLock { $0.total } }
}

/// What one request has taken from the budget; all of it goes back when the request's handler
/// ends, whatever its outcome (`BodyBudgetMiddleware`).
final class BodyLease: Sendable {
    /// The lease of the request this task serves; nil outside a request (then nothing is counted).
    @TaskLocal static var current: BodyLease?

    private let budget: BodyBudget
    /// The address the request came from: its share of the budget is bounded.
    private let source: String
    private let held = Mutex(0)

    init(budget: BodyBudget, source: String) {
        self.budget = budget
        self.source = source
    }

    /// False when the bytes do not fit; everything this lease held is then given back at once.
    func take(_ bytes: Int) -> Bool {
        held.withLock { held in
            guard budget.take(bytes, holding: held, source: source) else {
                held = 0
                return false
            }
            held += bytes
            return true
        }
    }

    func settle() { budget.give(held.withLock { held in defer { held = 0 }; return held }, source: source) }
}

/// Gives every request a lease on the body budget, and returns it when the handler ends.
struct BodyBudgetMiddleware: RouterMiddleware {
    typealias Context = QBCRequestContext
    let budget: BodyBudget

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let lease = BodyLease(budget: budget, source: context.source)
        defer { lease.settle() }
        return try await BodyLease.$current.withValue(lease) { try await next(request, context) }
    }
}
