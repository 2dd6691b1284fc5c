import Foundation
import Testing
@testable import RunbookKit

/// What only the SQLite store does; what every store does is in `StoreContractTests`.
@Suite("SQLite store")
struct SQLiteStoreTests {
    func openStore() throws -> (TemporaryRoot, SQLiteStore) {
        let root = try TemporaryRoot()
        try root.workspace.prepareState()
        return (root, try SQLiteStore(path: root.workspace.database.path))
    }

    @Test func migratesOnceAndReopens() throws {
        let (root, store) = try openStore()
        #expect(try store.connection.query("PRAGMA user_version").first?[0].int == Migrations.steps.count)
        #expect(try store.connection.query("PRAGMA journal_mode").first?[0].string == "wal")
        _ = try store.startJob(NewJob(runbook: "a", revision: nil, snapshot: "h", trigger: .test), host: "h", ownerPID: 1, at: Date())
        let again = try SQLiteStore(path: root.workspace.database.path)
        #expect(try again.jobCount() == 1)
    }

    @Test func refusesANewerSchema() throws {
        let (root, store) = try openStore()
        try store.connection.execute("PRAGMA user_version = 99")
        #expect { try SQLiteStore(path: root.workspace.database.path) } throws: { error in
            (error as? StoreError)?.code == .schema
        }
    }
}
