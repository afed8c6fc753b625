/// The data of a `quant` or `disconnected` event (documentation/events.md); a `final` event has
/// no `transactions`.
public struct EventQuantJSON: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public let id: String
        public let sender: String
        public let contentType: String

        public init(id: String, sender: String, contentType: String) {
            self.id = id
            self.sender = sender
            self.contentType = contentType
        }
    }

    public let chain: String
    public let height: UInt64
    public let hash: String
    public let transactions: [Entry]?

    public init(chain: String, height: UInt64, hash: String, transactions: [Entry]?) {
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
