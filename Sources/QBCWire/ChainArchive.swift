import Foundation
public import QBCCore

/// A chain in one file, for `qbc export` and `qbc import` (documentation/operations.md, "Moving a
/// chain"): the magic `QBCCHAIN`, a version byte (1), then records, each a u32 length and its
/// bytes. The first record is the Bang's binary form; every other is one Quant in height order:
/// its header's binary form, its transactions as a binary batch and its commit certificate
/// (empty without one), each as a u32 length and bytes. Nothing in it is trusted: import checks
/// every rule and signature, as sync does.
public enum ChainArchive {
    public static let magic = Array("QBCCHAIN".utf8) + [1]
    /// A Bang's record at most (its rules hold at most 1,024 members and a bounded schema).
    public static let maxBangBytes = 4 << 20

    public static func record(_ quant: Quant) -> [UInt8] {
        var w = CanonicalWriter(capacity: quant.transactions.reduce(512) { $0 + $1.encodedSize })
        w.bytes32(quant.header.encoded)
        w.bytes32(Transaction.encodeBatch(quant.transactions))
        w.bytes32(quant.certificate?.encoded ?? [])
        return w.bytes
    }

    /// A Quant's record, within the chain's limits.
    public static func quant(_ record: [UInt8], rules: ChainRules) throws(WireError) -> Quant {
        do {
            var r = CanonicalReader(record)
            let header = try QuantHeader(decoding: try r.bytes32(limit: 4096))
            let transactions = try Transaction.decodeBatch(
                try r.bytes32(limit: maxQuantBytes(rules)), limits: rules.transactionLimits, maxCount: rules.quantLimits.maxTransactions)
            let certificate = try r.bytes32(limit: 1 << 20)
            try r.finish()
            return Quant(header: header, transactions: transactions, certificate: certificate.isEmpty ? nil : try CommitCertificate(decoding: certificate))
        } catch {
            throw .malformed("the Quant's record does not decode: \(error)")
        }
    }

    /// The largest record a Quant of this chain can have: its byte limit, with room for the
    /// batch's length prefixes, the header and a certificate.
    public static func maxQuantBytes(_ rules: ChainRules) -> Int {
        rules.quantLimits.maxBytes + 4 * rules.quantLimits.maxTransactions + (2 << 20)
    }

    /// Appends records to a new file.
    public final class Writer {
        private let handle: FileHandle

        /// Creates `path` (never replacing a file) and writes the magic and the Bang.
        public init(path: String, bang: Bang) throws(WireError) {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            guard fd >= 0 else {
                throw .malformed(errno == EEXIST ? "\(path) already exists" : "cannot create \(path): \(String(cString: strerror(errno)))")
            }
            handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            try write(ChainArchive.magic)
            try append(bang.encoded)
        }

        public func append(_ quant: Quant) throws(WireError) { try append(ChainArchive.record(quant)) }

        private func append(_ record: [UInt8]) throws(WireError) {
            var w = CanonicalWriter(capacity: record.count + 4)
            w.bytes32(record)
            try write(w.bytes)
        }

        private func write(_ bytes: [UInt8]) throws(WireError) {
            do { try handle.write(contentsOf: bytes) } catch { throw .malformed("cannot write the archive: \(error)") }
        }

        /// Flushes to disk and closes.
        public func close() throws(WireError) {
            do {
                try handle.synchronize()
                try handle.close()
            } catch { throw .malformed("cannot finish the archive: \(error)") }
        }
    }

    /// Reads records one at a time, each bounded before it is read.
    public final class Reader {
        private let handle: FileHandle
        /// Records read so far (the Bang is record 0).
        public private(set) var records = 0

        public init(path: String) throws(WireError) {
            guard let handle = FileHandle(forReadingAtPath: path) else { throw .malformed("cannot read \(path)") }
            self.handle = handle
            guard (try? handle.read(upToCount: ChainArchive.magic.count)).map({ Array($0 ?? Data()) }) == ChainArchive.magic else {
                throw .malformed("\(path) is not a QBC chain archive (version 1): its first bytes are not QBCCHAIN 1")
            }
        }

        deinit { try? handle.close() }

        /// The next record, nil at the end of the file.
        public func next(limit: Int) throws(WireError) -> [UInt8]? {
            let prefix = try read(4, allowEnd: true)
            guard let prefix else { return nil }
            let count = prefix.reduce(0) { $0 << 8 | Int($1) }
            guard count <= limit else { throw .tooLarge("record \(records) claims \(count) bytes, more than the \(limit) it may have") }
            guard let record = try read(count, allowEnd: false) else { throw .malformed("record \(records) is cut short") }
            records += 1
            return record
        }

        private func read(_ count: Int, allowEnd: Bool) throws(WireError) -> [UInt8]? {
            guard count > 0 else { return [] }
            let data: Data
            do { data = try handle.read(upToCount: count) ?? Data() } catch { throw .malformed("cannot read the archive: \(error)") }
            if data.isEmpty, allowEnd { return nil }
            guard data.count == count else { throw .malformed("record \(records) is cut short") }
            return Array(data)
        }
    }
}
