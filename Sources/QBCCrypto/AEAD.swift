import CSodium

/// XChaCha20-Poly1305 (IETF) authenticated encryption: 32-byte keys, 24-byte random nonces.
public enum AEAD {
    public static let keyBytes = Int(crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
    public static let nonceBytes = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    public static let tagBytes = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)

    /// Encrypts `plaintext` (lent by the closure-based `SecretBytes` or given as bytes) under `key`.
    public static func seal(_ plaintext: UnsafeRawBufferPointer, key: SecretBytes, nonce: [UInt8], ad: [UInt8]) -> [UInt8] {
        precondition(key.count == keyBytes && nonce.count == nonceBytes, "AEAD key and nonce sizes are fixed")
        requireSodium()
        var out = [UInt8](repeating: 0, count: plaintext.count + tagBytes)
        key.withBytes { k in
            _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                &out, nil, plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count), ad,
                UInt64(ad.count), nil, nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return out
    }

    public static func seal(_ plaintext: [UInt8], key: SecretBytes, nonce: [UInt8], ad: [UInt8]) -> [UInt8] {
        plaintext.withUnsafeBytes { seal($0, key: key, nonce: nonce, ad: ad) }
    }

    /// Decrypts and authenticates; nil when the key, nonce, associated data or any byte is wrong.
    public static func open(_ ciphertext: [UInt8], key: SecretBytes, nonce: [UInt8], ad: [UInt8]) -> SecretBytes? {
        guard key.count == keyBytes, nonce.count == nonceBytes, ciphertext.count >= tagBytes else { return nil }
        requireSodium()
        var out = [UInt8](repeating: 0, count: ciphertext.count - tagBytes)
        let status = key.withBytes { k in
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                &out, nil, nil, ciphertext, UInt64(ciphertext.count), ad, UInt64(ad.count), nonce,
                k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard status == 0 else { return nil }
        return SecretBytes(consuming: &out)
    }
}

/// Argon2id (libsodium `crypto_pwhash`, ARGON2ID13): a key from a passphrase.
public enum PasswordKey {
    public static let saltBytes = Int(crypto_pwhash_SALTBYTES)
    /// Bounds on parameters read from outside, so a file or envelope cannot ask for absurd work.
    public static let opsRange: ClosedRange<UInt64> = 1...16
    public static let memRange: ClosedRange<UInt64> = 8192...(1 << 30)

    /// A 32-byte key; nil when libsodium refuses (out of memory, parameters out of range).
    public static func derive(passphrase: SecretBytes, salt: [UInt8], opsLimit: UInt64, memLimit: UInt64) -> SecretBytes? {
        guard salt.count == saltBytes, opsRange.contains(opsLimit), memRange.contains(memLimit) else { return nil }
        requireSodium()
        var key = [UInt8](repeating: 0, count: AEAD.keyBytes)
        let status = passphrase.withBytes { p in
            crypto_pwhash(
                &key, UInt64(key.count), p.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(p.count), salt,
                opsLimit, Int(memLimit), crypto_pwhash_ALG_ARGON2ID13)
        }
        guard status == 0 else { return nil }
        return SecretBytes(consuming: &key)
    }
}

/// Anonymous public-key encryption (libsodium sealed boxes) to an Ed25519 identity, through its
/// X25519 form (`crypto_sign_ed25519_pk_to_curve25519`).
public enum SealedBox {
    public static let overhead = Int(crypto_box_sealbytes())

    /// Seals `message` to `recipient`; nil when the key is not a valid Ed25519 point.
    public static func seal(_ message: SecretBytes, to recipient: PublicKey) -> [UInt8]? {
        requireSodium()
        var x25519 = [UInt8](repeating: 0, count: Int(crypto_box_PUBLICKEYBYTES))
        guard crypto_sign_ed25519_pk_to_curve25519(&x25519, recipient.bytes) == 0 else { return nil }
        var out = [UInt8](repeating: 0, count: message.count + overhead)
        let status = message.withBytes { m in
            crypto_box_seal(&out, m.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(m.count), x25519)
        }
        return status == 0 ? out : nil
    }
}

extension SigningKey {
    /// Opens a sealed box addressed to this identity; nil when it is not for this key or was altered.
    public func open(sealed box: [UInt8]) -> SecretBytes? {
        guard box.count >= SealedBox.overhead else { return nil }
        return withX25519 { publicKey, secretKey in
            var out = [UInt8](repeating: 0, count: box.count - SealedBox.overhead)
            guard crypto_box_seal_open(&out, box, UInt64(box.count), publicKey, secretKey) == 0 else { return nil }
            return SecretBytes(consuming: &out)
        }
    }
}
