/// The data of a `quant` or `disconnected` event (documentation/events.md): the Quant and the ids
/// of its transactions (those that match the stream's filters); a `final` event has no
/// `transactions`.
public struct EventQuantJSON: Codable, Sendable, Equatable {
    public let chain: String
    public let height: UInt64
    public let hash: String
    public let transactions: [String]?

    public init(chain: String, height: UInt64, hash: String, transactions: [String]?) {
        self.chain = chain
        self.height = height
        self.hash = hash
        self.transactions = transactions
    }
}

/// The data of a `cutoff` event: reconnect after `resume`.
public struct EventCutoffJSON: Codable, Sendable, Equatable {
    public let resume: String
    public let message: String

    public init(resume: String, message: String) {
        self.resume = resume
        self.message = message
    }
}
