/// The HTTP header names of QBC's signed requests (protocol.md, "Peer requests"; locks.md,
/// "Proof-of-key read access"). Shared by the client that sends them and the server that reads them.
public enum QBCHeader {
    /// A node-to-node request: the sender's key, the time and the signature (`qbc/peer-request/v1`).
    public static let node = "QBC-Node"
    public static let timestamp = "QBC-Timestamp"
    public static let signature = "QBC-Signature"
    /// A proof-of-key read: the reader's key, the challenge nonce and the signature (`qbc/read-proof/v1`).
    public static let reader = "QBC-Reader"
    public static let nonce = "QBC-Nonce"
    public static let proof = "QBC-Proof"
    /// An anonymous read (`qbc/anon-read/v1`): the hash of the key set the proof was made over
    /// (hex) and the one-of-n proof (standard base64), with `QBC-Nonce`.
    public static let keySet = "QBC-Key-Set"
    public static let anonymousProof = "QBC-Anonymous-Proof"
}
