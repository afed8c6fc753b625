import NIOCore
import QBCServer
import Testing

/// The key a client's shares are counted under (D77, D78).
@Suite struct ClientAddressTests {
    func share(_ ip: String) throws -> String { ClientAddress.share(of: try SocketAddress(ipAddress: ip, port: 443)) }

    @Test func anIPv6HostIsCountedByItsSlash64() throws {
        #expect(try share("2001:db8:1:2::1") == share("2001:db8:1:2:ffff:ffff:ffff:fffe"))
        #expect(try share("2001:db8:1:2::1") == "2001:db8:1:2::/64")
        #expect(try share("2001:db8:1:2::1") != share("2001:db8:1:3::1"))
    }

    @Test func ipv4AddressesAreCountedOneByOneHoweverTheyArrive() throws {
        #expect(try share("192.0.2.1") == "192.0.2.1")
        #expect(try share("192.0.2.1") != share("192.0.2.2"))
        // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d: still one share each.
        #expect(try share("::ffff:192.0.2.1") == "192.0.2.1")
        #expect(try share("::ffff:192.0.2.1") != share("::ffff:192.0.2.2"))
        #expect(try share("::1") == "::1")
        #expect(ClientAddress.share(of: nil) == "unknown")
    }
}
