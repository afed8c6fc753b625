/// Milliseconds since the Unix epoch (UTC). The core never reads a clock: callers pass `now`.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let milliseconds: UInt64

    public init(milliseconds: UInt64) { self.milliseconds = milliseconds }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// The signed distance `self - other` in milliseconds, saturating instead of trapping.
    public func milliseconds(since other: Timestamp) -> Int64 {
        if milliseconds >= other.milliseconds {
            let d = milliseconds - other.milliseconds
            return d > UInt64(Int64.max) ? .max : Int64(d)
        }
        let d = other.milliseconds - milliseconds
        return d > UInt64(Int64.max) ? .min : -Int64(d)
    }

    public var description: String { "\(milliseconds)" }
}
