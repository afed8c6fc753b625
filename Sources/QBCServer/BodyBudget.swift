import Hummingbird
import Synchronization

/// The bytes of request bodies the node holds at once, over every connection. Each route bounds
/// one body; without a bound on all of them together, a stranger sending sixty 64 MiB bodies at
/// once made a node take 4 GB. A body that would pass the budget is refused with 503 `busy`.
final class BodyBudget: Sendable {
    /// Four of the largest bodies (`APILimits.maxRequestBytes`) at once.
    static let shared = BodyBudget(limit: 4 * APILimits.maxRequestBytes)

    let limit: Int
    private let used = Mutex(0)

    init(limit: Int) { self.limit = limit }

    func take(_ bytes: Int) -> Bool {
        used.withLock { used in
            guard bytes <= limit - used else { return false }
            used += bytes
            return true
        }
    }

    func give(_ bytes: Int) { used.withLock { $0 = max(0, $0 - bytes) } }

    /// Bytes held now (the `qbc_request_body_bytes` gauge).
    var inUse: Int { used.withLock { $0 } }
}

/// What one request has taken from the budget; all of it goes back when the request's handler
/// ends, whatever its outcome (`BodyBudgetMiddleware`).
final class BodyLease: Sendable {
    /// The lease of the request this task serves; nil outside a request (then nothing is counted).
    @TaskLocal static var current: BodyLease?

    private let budget: BodyBudget
    private let held = Mutex(0)

    init(budget: BodyBudget) { self.budget = budget }

    func take(_ bytes: Int) -> Bool {
        guard budget.take(bytes) else { return false }
        held.withLock { $0 += bytes }
        return true
    }

    func settle() { budget.give(held.withLock { held in defer { held = 0 }; return held }) }
}

/// Gives every request a lease on the body budget, and returns it when the handler ends.
struct BodyBudgetMiddleware: RouterMiddleware {
    typealias Context = QBCRequestContext
    let budget: BodyBudget

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let lease = BodyLease(budget: budget)
        defer { lease.settle() }
        return try await BodyLease.$current.withValue(lease) { try await next(request, context) }
    }
}
