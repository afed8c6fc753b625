import Foundation
public import QBCCore
public import QBCCrypto

extension Timestamp {
    /// The wall clock, read only at the edges (clients, the CLI, the node), never in the core.
    public static func now() -> Timestamp {
        Timestamp(milliseconds: UInt64(max(0, Date().timeIntervalSince1970 * 1000)))
    }
}

extension Transaction {
    /// A new transaction from `signer`, timestamped now, with a fresh random nonce, signed.
    public static func make(chain: ChainID, contentType: String, payload: [UInt8], signer: SigningKey) -> Transaction {
        make(chain: chain, contentType: contentType, payload: payload, signer: signer, at: .now())
    }
}
