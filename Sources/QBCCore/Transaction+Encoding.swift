import QBCCrypto

extension Transaction {
    /// The stored and binary wire form: the signing bytes followed by the 64-byte signature.
    public var encoded: [UInt8] { body.signingBytes + signature.bytes }

    /// Decodes `encoded`, refusing fields longer than `limits` allow. Does not verify the signature.
    public init(decoding bytes: [UInt8], limits: TransactionLimits) throws(CanonicalReader.DecodingError) {
        var r = CanonicalReader(bytes)
        try r.expect(.transaction)
        let chain = Hash(unchecked: try r.fixed(Hash.byteCount))
        let sender = PublicKey(unchecked: try r.fixed(PublicKey.byteCount))
        let nonce = Nonce(unchecked: try r.fixed(Nonce.byteCount))
        let timestamp = Timestamp(milliseconds: try r.u64())
        let contentType = try r.string8()
        let payload = try r.bytes32(limit: limits.maxPayloadBytes)
        let signature = Signature(unchecked: try r.fixed(Signature.byteCount))
        try r.finish()
        let body = Body(
            chain: chain, sender: sender, nonce: nonce, timestamp: timestamp, contentType: contentType,
            payload: payload)
        self.init(body: body, signature: signature)
    }
}
