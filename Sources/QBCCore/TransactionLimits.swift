/// Size and time bounds on transactions. A chain's Bang fixes its own; these are the defaults.
public struct TransactionLimits: Sendable, Hashable {
    /// The largest payload accepted, in bytes.
    public var maxPayloadBytes: Int
    /// How far in the past a timestamp may be at admission, in milliseconds.
    public var maxAgeMilliseconds: UInt64
    /// How far in the future a timestamp may be at admission, in milliseconds (clock skew).
    public var maxFutureMilliseconds: UInt64

    public init(maxPayloadBytes: Int, maxAgeMilliseconds: UInt64, maxFutureMilliseconds: UInt64) {
        self.maxPayloadBytes = maxPayloadBytes
        self.maxAgeMilliseconds = maxAgeMilliseconds
        self.maxFutureMilliseconds = maxFutureMilliseconds
    }

    /// 64 KiB payloads; ten minutes old at most; two minutes of clock skew.
    public static let standard = TransactionLimits(
        maxPayloadBytes: 64 * 1024, maxAgeMilliseconds: 10 * 60_000, maxFutureMilliseconds: 2 * 60_000)

    /// The largest payload any chain may allow (the encoding's own ceiling is 4 GiB).
    public static let absoluteMaxPayloadBytes = 16 * 1024 * 1024
    /// The longest time window (age, skew) a Bang may set: a year, so that every window fits a
    /// signed 64-bit millisecond count with room to spare.
    public static let absoluteMaxWindowMilliseconds: UInt64 = 366 * 86_400_000
    /// These limits with the largest payload any chain allows: for decoding transactions that were
    /// checked against their chain's own limits when they came in (stored ones).
    public var ceiling: TransactionLimits {
        var ceiling = self
        ceiling.maxPayloadBytes = Self.absoluteMaxPayloadBytes
        return ceiling
    }

    /// Content types are 1 to 127 bytes of printable ASCII.
    public static let maxContentTypeBytes = 127
}
