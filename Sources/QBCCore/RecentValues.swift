/// The last few values seen, newest first and oldest out, found by comparing rather than
/// hashing: decoders and role checks meet a handful of values (chains, senders, content types)
/// many times over in one batch or Quant (issue 18). Order of arrival, not of use: a hit moves
/// nothing.
public struct RecentValues<Element> {
    private var values: [Element] = []
    /// At most this many are kept; 0 keeps none (a caller that sees one value only).
    public let capacity: Int

    public init(capacity: Int) { self.capacity = capacity }

    public func first(where match: (Element) -> Bool) -> Element? { values.first(where: match) }

    public mutating func remember(_ value: Element) {
        guard capacity > 0 else { return }
        if values.count >= capacity { values.removeLast() }
        values.insert(value, at: 0)
    }
}

extension RecentValues: Sendable where Element: Sendable {}
