public import QBCCrypto

/// To whom a payload is locked.
public enum LockTarget: Sendable {
    /// Each key can open it alone.
    case recipients([PublicKey])
    /// Whoever knows the passphrase (Argon2id with these limits).
    case passphrase(SecretBytes, opsLimit: UInt64, memLimit: UInt64)
    /// Any `threshold` of the keys together.
    case threshold(Int, [PublicKey])
}

/// Why a lock does not open. Every case says what to do.
public enum LockError: Error, Equatable, Sendable, CustomStringConvertible {
    case notARecipient
    case tooFewShares(have: Int, need: Int)
    case wrongPassphrase
    case tampered
    case wrongBinding
    case invalidTarget(String)
    case wrongMethod(String)

    public var description: String {
        switch self {
        case .notARecipient: "none of the given keys is a recipient of this lock"
        case .tooFewShares(let have, let need): "this lock needs \(need) of its share holders' keys; \(have) given"
        case .wrongPassphrase: "wrong passphrase (or the envelope was altered)"
        case .tampered: "the envelope was altered: its authentication fails"
        case .wrongBinding: "the envelope is bound to another chain or sender: it was lifted from another transaction"
        case .invalidTarget(let why): why
        case .wrongMethod(let why): why
        }
    }
}

extension Lock {
    /// Locks `plaintext` for one transaction of `sender` on `chain`.
    public static func seal(
        _ plaintext: [UInt8], contentType: String, chain: ChainID, sender: PublicKey, to target: LockTarget
    ) throws(LockError) -> Lock {
        let contentKey = SecretBytes(random: AEAD.keyBytes)
        let method: Method
        switch target {
        case .recipients(let keys):
            guard (1...maxHolders).contains(keys.count), Set(keys).count == keys.count else {
                throw .invalidTarget("lock to 1 to \(maxHolders) distinct recipients")
            }
            var recipients = [Recipient]()
            for key in keys {
                guard let sealed = SealedBox.seal(contentKey, to: key) else { throw .invalidTarget("\(key.hex) is not a valid public key") }
                recipients.append(Recipient(key: key, sealedKey: sealed))
            }
            method = .recipients(recipients)
        case .passphrase(let passphrase, let ops, let mem):
            let salt = SecureRandom.bytes(PasswordKey.saltBytes)
            guard passphrase.count > 0, let wrapping = PasswordKey.derive(passphrase: passphrase, salt: salt, opsLimit: ops, memLimit: mem)
            else { throw .invalidTarget("a passphrase lock needs a non-empty passphrase and Argon2id limits in range") }
            let nonce = SecureRandom.bytes(AEAD.nonceBytes)
            let wrapped = contentKey.withBytes { AEAD.seal($0, key: wrapping, nonce: nonce, ad: []) }
            method = .passphrase(PassphraseWrap(salt: salt, opsLimit: ops, memLimit: mem, nonce: nonce, wrappedKey: wrapped))
        case .threshold(let k, let keys):
            guard (1...maxHolders).contains(keys.count), (1...keys.count).contains(k), Set(keys).count == keys.count else {
                throw .invalidTarget("a threshold lock needs 1 <= k <= n <= \(maxHolders) distinct holders")
            }
            var shares = [Share]()
            for (share, key) in zip(Shamir.split(contentKey, threshold: k, count: keys.count), keys) {
                guard let sealed = SealedBox.seal(share.y, to: key) else { throw .invalidTarget("\(key.hex) is not a valid public key") }
                shares.append(Share(key: key, x: share.x, sealedShare: sealed))
            }
            method = .threshold(k, shares)
        }
        let nonce = SecureRandom.bytes(AEAD.nonceBytes)
        let header = Self.header(chain: chain, sender: sender, contentType: contentType, method: method)
        let ciphertext = AEAD.seal(plaintext, key: contentKey, nonce: nonce, ad: header)
        return Lock(chain: chain, sender: sender, contentType: contentType, method: method, nonce: nonce, ciphertext: ciphertext)
    }

    /// Opens a recipient or threshold lock with the holders' keys, checking it is bound to the
    /// transaction it came in (`chain`, `sender`).
    public func open(with keys: [SigningKey], chain: ChainID, sender: PublicKey) throws(LockError) -> [UInt8] {
        guard self.chain == chain, self.sender == sender else { throw .wrongBinding }
        let contentKey: SecretBytes
        switch method {
        case .recipients(let recipients):
            var found: SecretBytes?
            for key in keys {
                guard let entry = recipients.first(where: { $0.key == key.publicKey }) else { continue }
                guard let opened = key.open(sealed: entry.sealedKey) else { throw .tampered }
                found = opened
                break
            }
            guard let found else { throw .notARecipient }
            contentKey = found
        case .threshold(let k, let shares):
            var opened = [Shamir.Share]()
            // A key given twice is one share: counted again it would look like a forgery to Shamir.
            var holders = Set<PublicKey>()
            for key in keys where holders.insert(key.publicKey).inserted {
                guard let share = shares.first(where: { $0.key == key.publicKey }) else { continue }
                guard let y = key.open(sealed: share.sealedShare) else { throw .tampered }
                opened.append(Shamir.Share(x: share.x, y: y))
            }
            guard !opened.isEmpty else { throw .notARecipient }
            guard opened.count >= k else { throw .tooFewShares(have: opened.count, need: k) }
            guard let combined = Shamir.combine(Array(opened.prefix(k))) else { throw .tampered }
            contentKey = combined
        case .passphrase:
            throw .wrongMethod("this is a passphrase lock: unlock it with its passphrase")
        }
        return try decrypt(with: contentKey)
    }

    /// Opens a passphrase lock.
    public func open(passphrase: SecretBytes, chain: ChainID, sender: PublicKey) throws(LockError) -> [UInt8] {
        guard self.chain == chain, self.sender == sender else { throw .wrongBinding }
        guard case .passphrase(let wrap) = method else { throw .wrongMethod("this lock is for keys, not a passphrase") }
        guard let wrapping = PasswordKey.derive(passphrase: passphrase, salt: wrap.salt, opsLimit: wrap.opsLimit, memLimit: wrap.memLimit),
            let contentKey = AEAD.open(wrap.wrappedKey, key: wrapping, nonce: wrap.nonce, ad: [])
        else { throw .wrongPassphrase }
        return try decrypt(with: contentKey)
    }

    private func decrypt(with contentKey: SecretBytes) throws(LockError) -> [UInt8] {
        guard let plaintext = AEAD.open(ciphertext, key: contentKey, nonce: nonce, ad: header) else { throw .tampered }
        return plaintext.withBytes { Array($0) }
    }
}
