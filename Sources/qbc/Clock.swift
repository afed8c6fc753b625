import Foundation
import QBCCore

extension Timestamp {
    /// The wall clock, read only at the edges (CLI, node), never in the core.
    static func now() -> Timestamp {
        Timestamp(milliseconds: UInt64(max(0, Date().timeIntervalSince1970 * 1000)))
    }
}
