import CSodium

/// Shamir's secret sharing over GF(2^8) (the AES field, polynomial x^8 + x^4 + x^3 + x + 1), byte
/// by byte: any `threshold` shares give the secret back, fewer give no information about it.
///
/// Field arithmetic is branch-free and table-free, so timing does not depend on secret bytes.
public enum Shamir {
    /// One share: its x coordinate (1...255, public) and one y byte per secret byte.
    public struct Share: Sendable {
        public let x: UInt8
        public let y: SecretBytes

        public init(x: UInt8, y: SecretBytes) {
            self.x = x
            self.y = y
        }
    }

    /// Splits `secret` into `count` shares at x = 1...count, any `threshold` of which recover it.
    /// `random` supplies the polynomial coefficients (libsodium's generator by default).
    public static func split(
        _ secret: SecretBytes, threshold: Int, count: Int, random: (Int) -> [UInt8] = SecureRandom.bytes
    ) -> [Share] {
        precondition((1...255).contains(threshold) && (threshold...255).contains(count), "1 <= threshold <= count <= 255")
        var ys = [[UInt8]](repeating: [UInt8](repeating: 0, count: secret.count), count: count)
        secret.withBytes { s in
            for (index, byte) in s.enumerated() {
                // f(x) = byte + c1 x + … + c(k-1) x^(k-1); evaluated by Horner's rule at each x.
                var coefficients = random(threshold - 1)
                for share in 0..<count {
                    let x = UInt8(share + 1)
                    var y: UInt8 = 0
                    for c in coefficients.reversed() { y = multiply(y, x) ^ c }
                    ys[share][index] = multiply(y, x) ^ byte
                }
                wipe(&coefficients)
            }
        }
        return ys.enumerated().map { index, y in
            var bytes = y
            return Share(x: UInt8(index + 1), y: SecretBytes(consuming: &bytes))
        }
    }

    /// Lagrange interpolation at 0. With fewer than the threshold (or foreign shares) the result is
    /// a wrong secret, not an error: the caller authenticates it (a lock's AEAD does).
    /// Nil when the shares are empty, differ in length or repeat an x.
    public static func combine(_ shares: [Share]) -> SecretBytes? {
        guard let length = shares.first?.y.count, shares.allSatisfy({ $0.y.count == length && $0.x != 0 }),
            Set(shares.map(\.x)).count == shares.count
        else { return nil }
        var secret = [UInt8](repeating: 0, count: length)
        for (i, share) in shares.enumerated() {
            // The Lagrange basis at 0: product of x_j / (x_j - x_i) over j != i (minus is xor here).
            var basis: UInt8 = 1
            for (j, other) in shares.enumerated() where j != i {
                basis = multiply(basis, multiply(other.x, inverse(other.x ^ share.x)))
            }
            share.y.withBytes { y in
                for index in 0..<length { secret[index] ^= multiply(y[index], basis) }
            }
        }
        return SecretBytes(consuming: &secret)
    }

    /// Product in GF(2^8), without branches on the operands.
    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var (a, b, product): (UInt8, UInt8, UInt8) = (a, b, 0)
        for _ in 0..<8 {
            product ^= a & (0 &- (b & 1))
            a = (a << 1) ^ (0x1b & (0 &- (a >> 7)))
            b >>= 1
        }
        return product
    }

    /// a^254 = a^-1 (and 0 for 0), by a fixed sequence of squarings and products.
    static func inverse(_ a: UInt8) -> UInt8 {
        var result: UInt8 = 1
        var power = a
        for bit in 0..<8 {
            // 254 = 0b11111110: every bit but the lowest.
            let mask: UInt8 = bit == 0 ? 0 : 0xff
            result = (multiply(result, power) & mask) | (result & ~mask)
            power = multiply(power, power)
        }
        return result
    }

    private static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { if let base = $0.baseAddress { sodium_memzero(base, $0.count) } }
    }
}
