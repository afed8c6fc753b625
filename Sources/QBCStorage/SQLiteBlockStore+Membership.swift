import Foundation
import GRDB
public import QBCCore
public import QBCCrypto

/// Committed membership changes: a small table beside the Quants, written in the same database
/// transaction, so membership at any height is derived without reading the chain's transactions.
extension SQLiteBlockStore {
    static func insert(_ events: [MemberEvent], chain: ChainID, height: UInt64, in db: Database) throws {
        guard !events.isEmpty else { return }
        let insert = try db.cachedStatement(
            sql: "INSERT INTO member_event (chain, height, position, change, member, roles) VALUES (?, ?, ?, ?, ?, ?)")
        for event in events {
            try insert.execute(arguments: [
                Data(chain.bytes), Int64(clamping: height), event.position, Data(event.change.bytes), Data(event.member.bytes),
                Int(event.roles.rawValue),
            ])
        }
    }

    public func memberEvents(chain: ChainID, atOrBelow height: UInt64) throws(StorageError) -> [MemberEvent] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT change, member, roles, position FROM member_event WHERE chain = ? AND height <= ? ORDER BY height, position",
                arguments: [Data(chain.bytes), Int64(clamping: height)]
            ).map { row in
                let change: Data = row["change"]
                let member: Data = row["member"]
                let roles: Int = row["roles"]
                return MemberEvent(
                    change: Hash(unchecked: Array(change)), member: PublicKey(unchecked: Array(member)),
                    roles: Role(rawValue: UInt8(truncatingIfNeeded: roles)), position: row["position"])
            }
        }
    }

    public func appliedChanges(_ ids: [Hash], chain: ChainID, atOrBelow height: UInt64) throws(StorageError) -> Set<Hash> {
        guard !ids.isEmpty else { return [] }
        return try read { db in
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM member_event WHERE chain = ? AND change = ? AND height <= ?")
            return Set(try ids.filter { id in
                try Bool.fetchOne(statement, arguments: [Data(chain.bytes), Data(id.bytes), Int64(clamping: height)]) != nil
            })
        }
    }
}
