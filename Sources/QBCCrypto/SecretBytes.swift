import CSodium

/// Secret bytes in memory QBC owns, zeroed when the last reference goes away.
///
/// Swift arrays can be copied silently, so secrets never live in one: this class
/// owns a single heap buffer and only lends it out through `withBytes`.
public final class SecretBytes: @unchecked Sendable {
    // Immutable after init; the buffer is only read, so sharing across tasks is safe.
    private let buffer: UnsafeMutableRawBufferPointer

    /// The number of secret bytes.
    public let count: Int

    /// Copies `bytes` in and zeroes the caller's array.
    public init(consuming bytes: inout [UInt8]) {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        bytes.withUnsafeMutableBytes { source in
            if let base = source.baseAddress, !source.isEmpty {
                storage.baseAddress!.copyMemory(from: base, byteCount: source.count)
                sodium_memzero(base, source.count)
            }
        }
        buffer = storage
        count = bytes.count
        bytes.removeAll()
    }

    /// `count` fresh random bytes.
    public init(random count: Int) {
        requireSodium()
        buffer = .allocate(byteCount: max(count, 1), alignment: 16)
        randombytes_buf(buffer.baseAddress!, count)
        self.count = count
    }

    /// Copies UTF-8 text, e.g. a passphrase. The caller's String cannot be wiped; keep its lifetime short.
    public convenience init(utf8 text: String) {
        var bytes = Array(text.utf8)
        self.init(consuming: &bytes)
    }

    /// Lends the secret bytes for the duration of `body`.
    public func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
    }

    deinit {
        sodium_memzero(buffer.baseAddress!, buffer.count)
        buffer.deallocate()
    }
}
