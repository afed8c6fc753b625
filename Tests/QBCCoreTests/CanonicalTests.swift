import QBCCore
import Testing

@Suite struct CanonicalTests {
    @Test func integersAreBigEndian() throws {
        var w = CanonicalWriter()
        w.u8(1)
        w.u16(0x0203)
        w.u32(0x0405_0607)
        w.u64(0x0809_0a0b_0c0d_0e0f)
        w.string8("hi")
        w.bytes32([0xaa])
        #expect(w.bytes == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 2, 0x68, 0x69, 0, 0, 0, 1, 0xaa])
        var r = CanonicalReader(w.bytes)
        #expect(try r.u8() == 1)
        #expect(try r.u16() == 0x0203)
        #expect(try r.u32() == 0x0405_0607)
        #expect(try r.u64() == 0x0809_0a0b_0c0d_0e0f)
        #expect(try r.string8() == "hi")
        #expect(try r.bytes32(limit: 1) == [0xaa])
        try r.finish()
    }

    @Test func lengthPrefixesAreBounded() {
        var w = CanonicalWriter()
        w.u32(UInt32.max)
        var r = CanonicalReader(w.bytes)
        #expect(throws: CanonicalReader.DecodingError.tooLong(at: 4, limit: 1000)) { try r.bytes32(limit: 1000) }
        var short = CanonicalReader([0, 0, 0, 5, 1])
        #expect(throws: CanonicalReader.DecodingError.truncated(at: 4)) { try short.bytes32(limit: 1000) }
    }

    @Test func domainTagsEndWithZero() {
        #expect(DomainTag.transaction.bytes == Array("qbc/tx/v1".utf8) + [0])
        var r = CanonicalReader(Array("qbc/tx/v2".utf8) + [0])
        #expect(throws: CanonicalReader.DecodingError.wrongTag(expected: "qbc/tx/v1")) { try r.expect(.transaction) }
    }
}
