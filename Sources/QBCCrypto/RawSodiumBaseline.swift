import CSodium
import Foundation

/// Direct libsodium loops on preallocated buffers: the baseline every QBC benchmark
/// prints next to its own figure. Not for production use: it only counts operations.
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
