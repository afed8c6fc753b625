import Foundation
import QBCClient

extension NodeClient {
    /// Whether `/health` answers within `seconds`, asking again after each miss. Liveness, not
    /// latency: at the start of the parallel suite dozens of nodes start on two cores, and a node
    /// whose accept queue is full makes the kernel drop a new connection's SYN, which the client
    /// sends again only after 1 s and then 3 s; one 2 s probe failed so in CI (2026-11-28).
    public func answersHealth(within seconds: Double = 20) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await isHealthy(timeoutSeconds: 5) { return true }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return false
    }
}
