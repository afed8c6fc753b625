import Foundation
import GRDB
public import QBCCore
public import QBCCrypto
public import QBCStorage

/// Small tables beside the Quants: membership changes (written in the same database transaction
/// as their Quant, so membership at any height is derived without reading transactions),
/// equivocation evidence and peer bans.
extension SQLiteBlockStore {
    static func insert(_ events: [MemberEvent], chain: ChainID, height: UInt64, in db: Database) throws {
        guard !events.isEmpty else { return }
        let insert = try db.cachedStatement(
            sql: "INSERT INTO member_event (chain, height, position, change, member, roles, read_key) VALUES (?, ?, ?, ?, ?, ?, ?)")
        for event in events {
            try insert.execute(arguments: [
                Data(chain.bytes), Int64(clamping: height), event.position, Data(event.change.bytes), Data(event.member.bytes),
                Int(event.roles.rawValue), event.readKey.map { Data($0.bytes) },
            ])
        }
    }

    public func memberEvents(chain: ChainID, atOrBelow height: UInt64) async throws(StorageError) -> [MemberEvent] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT change, member, roles, position, read_key FROM member_event WHERE chain = ? AND height <= ? ORDER BY height, position",
                arguments: [Data(chain.bytes), Int64(clamping: height)]
            ).map(Self.memberEvent)
        }
    }

    public func memberHistory(chain: ChainID, limit: Int) async throws(StorageError) -> [(height: UInt64, event: MemberEvent)] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT height, change, member, roles, position, read_key FROM member_event WHERE chain = ? ORDER BY height DESC, position DESC LIMIT ?",
                arguments: [Data(chain.bytes), max(0, limit)]
            ).reversed().map { row in
                let height: Int64 = row["height"]
                return (UInt64(clamping: height), Self.memberEvent(row))
            }
        }
    }

    private static func memberEvent(_ row: Row) -> MemberEvent {
        let change: Data = row["change"]
        let member: Data = row["member"]
        let roles: Int = row["roles"]
        let readKey: Data? = row["read_key"]
        return MemberEvent(
            change: Hash(unchecked: Array(change)), member: PublicKey(unchecked: Array(member)),
            roles: Role(rawValue: UInt8(truncatingIfNeeded: roles)), position: row["position"],
            readKey: readKey.flatMap { try? RistrettoPoint(validating: Array($0)) })
    }

    public func appliedChanges(_ ids: [Hash], chain: ChainID, atOrBelow height: UInt64) async throws(StorageError) -> Set<Hash> {
        guard !ids.isEmpty else { return [] }
        return try await read { db in
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM member_event WHERE chain = ? AND change = ? AND height <= ?")
            return Set(try ids.filter { id in
                try Bool.fetchOne(statement, arguments: [Data(chain.bytes), Data(id.bytes), Int64(clamping: height)]) != nil
            })
        }
    }

    // MARK: Evidence

    public func record(_ evidence: Equivocation) async throws(StorageError) {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO equivocation (chain, proposer, height, first, second, first_header, second_header)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Data(evidence.chain.bytes), Data(evidence.proposer.bytes), Int64(clamping: evidence.height),
                    Data(evidence.first.hash.bytes), Data(evidence.second.hash.bytes), Data(evidence.first.encoded),
                    Data(evidence.second.encoded),
                ])
        }
    }

    public func equivocations(chain: ChainID) async throws(StorageError) -> [Equivocation] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT first_header, second_header FROM equivocation WHERE chain = ? AND first_header IS NOT NULL ORDER BY height",
                arguments: [Data(chain.bytes)]
            ).map { row in
                let first: Data = row["first_header"]
                let second: Data = row["second_header"]
                guard let a = try? QuantHeader(decoding: Array(first)), let b = try? QuantHeader(decoding: Array(second)),
                    let evidence = Equivocation(a, b)
                else { throw StorageError(.corrupt, "stored equivocation evidence does not decode or verify") }
                return evidence
            }
        }
    }

    public func equivocators(chain: ChainID) async throws(StorageError) -> Equivocators {
        let rows: [(Data, Int64, Bool)] = try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT proposer, height, first_header IS NOT NULL AS full FROM equivocation WHERE chain = ?",
                arguments: [Data(chain.bytes)]
            ).map { ($0["proposer"], $0["height"], $0["full"]) }
        }
        var banned = Equivocators()
        for (proposer, height, full) in rows {
            let key = PublicKey(unchecked: Array(proposer))
            // Rows from before migration v4 hold no headers: their authority stays refused throughout.
            let from = full ? UInt64(clamping: height) : 0
            banned[key] = min(banned[key] ?? .max, from)
        }
        for conflict in try await finalityConflicts(chain: chain) { banned.record(conflict) }
        return banned
    }

    // MARK: BFT signer state

    public func signerState(chain: ChainID) async throws(StorageError) -> SignerState? {
        let bytes: Data? = try await read { db in
            try Data.fetchOne(db, sql: "SELECT state FROM bft_signer WHERE chain = ?", arguments: [Data(chain.bytes)])
        }
        guard let bytes else { return nil }
        do { return try SignerState(decoding: Array(bytes)) } catch {
            throw StorageError(.corrupt, "the stored BFT signer state does not decode: \(error)")
        }
    }

    public func save(_ state: SignerState, chain: ChainID) async throws(StorageError) {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO bft_signer (chain, state) VALUES (?, ?) ON CONFLICT(chain) DO UPDATE SET state = excluded.state",
                arguments: [Data(chain.bytes), Data(state.encoded)])
        }
    }

    public func record(_ conflict: FinalityConflict) async throws(StorageError) {
        try await write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO bft_conflict (chain, height, first, second, evidence) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    Data(conflict.chain.bytes), Int64(clamping: conflict.height), Data(conflict.first.hash.bytes),
                    Data(conflict.second.hash.bytes), Data(conflict.encoded),
                ])
        }
    }

    public func finalityConflicts(chain: ChainID) async throws(StorageError) -> [FinalityConflict] {
        let rows: [Data] = try await read { db in
            try Data.fetchAll(db, sql: "SELECT evidence FROM bft_conflict WHERE chain = ? ORDER BY height, first", arguments: [Data(chain.bytes)])
        }
        var conflicts = [FinalityConflict]()
        for row in rows {
            do { conflicts.append(try FinalityConflict(decoding: Array(row))) } catch {
                throw StorageError(.corrupt, "stored BFT conflict evidence does not decode: \(error)")
            }
        }
        return conflicts
    }

    public func validProof(chain: ChainID) async throws(StorageError) -> ValidProof? {
        let bytes: Data? = try await read { db in
            try Data.fetchOne(db, sql: "SELECT proof FROM bft_valid WHERE chain = ?", arguments: [Data(chain.bytes)])
        }
        guard let bytes else { return nil }
        do { return try ValidProof(decoding: Array(bytes)) } catch {
            throw StorageError(.corrupt, "the stored BFT valid proof does not decode: \(error)")
        }
    }

    public func save(_ proof: ValidProof, chain: ChainID) async throws(StorageError) {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO bft_valid (chain, proof) VALUES (?, ?) ON CONFLICT(chain) DO UPDATE SET proof = excluded.proof",
                arguments: [Data(chain.bytes), Data(proof.encoded)])
        }
    }

    // MARK: Bans

    public func ban(_ peer: PublicKey, until: Timestamp) async throws(StorageError) {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO peer_ban (node, until) VALUES (?, ?) ON CONFLICT(node) DO UPDATE SET until = MAX(until, excluded.until)",
                arguments: [Data(peer.bytes), Int64(clamping: until.milliseconds)])
        }
    }

    public func bans(after now: Timestamp) async throws(StorageError) -> [PublicKey: Timestamp] {
        let rows: [(Data, Int64)] = try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT node, until FROM peer_ban WHERE until > ?", arguments: [Int64(clamping: now.milliseconds)]
            ).map { ($0["node"], $0["until"]) }
        }
        var bans = [PublicKey: Timestamp]()
        for (node, until) in rows { bans[PublicKey(unchecked: Array(node))] = Timestamp(milliseconds: UInt64(clamping: until)) }
        return bans
    }
}
