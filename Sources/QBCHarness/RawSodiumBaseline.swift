import CSodium
import Foundation

/// libsodium must be initialised before the loops run (QBCCrypto does the same for itself).
private let sodiumReady: Bool = sodium_init() >= 0

private func requireSodium() { precondition(sodiumReady, "libsodium failed to initialise (no entropy source?)") }

/// Direct libsodium loops on preallocated buffers: the baseline every QBC benchmark
/// prints next to its own figure. Not for production use: it only counts operations. It lives
/// in the harness, not in QBCCrypto, so no shipped library carries benchmark code.
public enum RawSodiumBaseline {
    /// Ed25519 signatures per second, one thread, `count` signatures of `messageBytes` bytes.
    public static func signPerSecond(count: Int, messageBytes: Int) -> Double {
        requireSodium()
        var pk = [UInt8](repeating: 0, count: 32)
        var sk = [UInt8](repeating: 0, count: 64)
        crypto_sign_keypair(&pk, &sk)
        var message = [UInt8](repeating: 0, count: messageBytes)
        randombytes_buf(&message, messageBytes)
        var signature = [UInt8](repeating: 0, count: 64)
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<count {
            message[0] = UInt8(truncatingIfNeeded: i)
            crypto_sign_detached(&signature, nil, message, UInt64(messageBytes), sk)
        }
        sodium_memzero(&sk, 64)
        return rate(count, since: start)
    }

    /// Ed25519 verifications per second on `threads` threads at once, each verifying
    /// `countPerThread` valid signatures over `messageBytes`-byte messages.
    public static func verifyPerSecond(countPerThread: Int, messageBytes: Int, threads: Int = 1) -> Double {
        requireSodium()
        var pk = [UInt8](repeating: 0, count: 32)
        var sk = [UInt8](repeating: 0, count: 64)
        crypto_sign_keypair(&pk, &sk)
        let distinct = 64
        var messages = [[UInt8]]()
        var signatures = [[UInt8]]()
        for _ in 0..<distinct {
            var message = [UInt8](repeating: 0, count: messageBytes)
            randombytes_buf(&message, messageBytes)
            var signature = [UInt8](repeating: 0, count: 64)
            crypto_sign_detached(&signature, nil, message, UInt64(messageBytes), sk)
            messages.append(message)
            signatures.append(signature)
        }
        sodium_memzero(&sk, 64)
        let (msgs, sigs, key) = (messages, signatures, pk)
        let failures = Atomic(0)
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            var bad = 0
            for i in 0..<countPerThread {
                let j = i % distinct
                if crypto_sign_verify_detached(sigs[j], msgs[j], UInt64(messageBytes), key) != 0 { bad += 1 }
            }
            failures.add(bad)
        }
        precondition(failures.value == 0, "libsodium rejected its own signatures")
        return rate(countPerThread * threads, since: start)
    }

    /// Raw lock work per second, one thread: a random key sealed to `recipients` X25519 keys and
    /// `payloadBytes` encrypted with XChaCha20-Poly1305 (what a recipient lock does, without QBC).
    public static func lockPerSecond(count: Int, recipients: Int, payloadBytes: Int) -> Double {
        requireSodium()
        let keys = (0..<recipients).map { _ -> [UInt8] in
            var pk = [UInt8](repeating: 0, count: 32)
            var sk = [UInt8](repeating: 0, count: 32)
            crypto_box_keypair(&pk, &sk)
            return pk
        }
        var key = [UInt8](repeating: 0, count: 32)
        var nonce = [UInt8](repeating: 0, count: 24)
        let payload = [UInt8](repeating: 7, count: payloadBytes)
        var sealed = [UInt8](repeating: 0, count: 32 + Int(crypto_box_sealbytes()))
        var ciphertext = [UInt8](repeating: 0, count: payloadBytes + 16)
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<count {
            randombytes_buf(&key, 32)
            randombytes_buf(&nonce, 24)
            for pk in keys { crypto_box_seal(&sealed, key, 32, pk) }
            crypto_aead_xchacha20poly1305_ietf_encrypt(&ciphertext, nil, payload, UInt64(payloadBytes), nil, 0, nil, nonce, key)
        }
        return rate(count, since: start)
    }

    /// Raw unlock work per second, one thread: one sealed box opened and `payloadBytes` decrypted.
    public static func unlockPerSecond(count: Int, payloadBytes: Int) -> Double {
        requireSodium()
        var pk = [UInt8](repeating: 0, count: 32)
        var sk = [UInt8](repeating: 0, count: 32)
        crypto_box_keypair(&pk, &sk)
        var key = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&key, 32)
        var sealed = [UInt8](repeating: 0, count: 32 + Int(crypto_box_sealbytes()))
        crypto_box_seal(&sealed, key, 32, pk)
        let nonce = [UInt8](repeating: 1, count: 24)
        let payload = [UInt8](repeating: 7, count: payloadBytes)
        var ciphertext = [UInt8](repeating: 0, count: payloadBytes + 16)
        crypto_aead_xchacha20poly1305_ietf_encrypt(&ciphertext, nil, payload, UInt64(payloadBytes), nil, 0, nil, nonce, key)
        var opened = [UInt8](repeating: 0, count: 32)
        var plain = [UInt8](repeating: 0, count: payloadBytes)
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<count {
            crypto_box_seal_open(&opened, sealed, UInt64(sealed.count), pk, sk)
            crypto_aead_xchacha20poly1305_ietf_decrypt(&plain, nil, nil, ciphertext, UInt64(ciphertext.count), nil, 0, nonce, opened)
        }
        sodium_memzero(&sk, 32)
        return rate(count, since: start)
    }

    /// Raw ristretto255 variable-base scalar multiplications per second, one thread.
    public static func ristrettoScalarMultPerSecond(count: Int) -> Double {
        requireSodium()
        var scalar = [UInt8](repeating: 0, count: 32)
        var point = [UInt8](repeating: 0, count: 32)
        crypto_core_ristretto255_scalar_random(&scalar)
        crypto_scalarmult_ristretto255_base(&point, scalar)
        var out = [UInt8](repeating: 0, count: 32)
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<count {
            crypto_scalarmult_ristretto255(&out, scalar, point)
            point = out
        }
        return rate(count, since: start)
    }

    private static func rate(_ count: Int, since start: UInt64) -> Double {
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(count) / max(elapsed, 1e-9)
    }

    /// A tiny lock-protected counter so the loop above needs no Synchronization import.
    private final class Atomic: @unchecked Sendable {
        private let lock = NSLock()
        private var total: Int
        init(_ value: Int) { total = value }
        func add(_ n: Int) { lock.lock(); total += n; lock.unlock() }
        var value: Int { lock.lock(); defer { lock.unlock() }; return total }
    }
}
