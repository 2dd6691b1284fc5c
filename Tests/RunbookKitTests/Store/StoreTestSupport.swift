import Foundation
import Testing
@testable import RunbookKit

/// The stores the shared suite runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// The PostgreSQL server the tests use, from `RUNBOOK_TEST_DATABASE` (a
/// postgres:// URL of a role that may create databases; `.ci/run` starts
/// one). Without it the PostgreSQL cases are skipped, saying why.
enum TestDatabase {
    static var url: DatabaseURL? {
        guard let text = ProcessInfo.processInfo.environment["RUNBOOK_TEST_DATABASE"], !text.isEmpty else { return nil }
        return try? DatabaseURL(text)
    }

    static let skipReason = "RUNBOOK_TEST_DATABASE is not set: PostgreSQL cases skipped (.ci/run starts a server and sets it)"

    /// Skips the running test (case) when there is no server.
    static func require() throws -> DatabaseURL {
        guard let url else {
            print("skipped: \(Test.current?.name ?? "test"): \(skipReason)")
            try Test.cancel(Comment(rawValue: skipReason))
        }
        return url
    }

    /// A new, empty database on the test server, dropped by `drop`.
    static func create() throws -> (url: DatabaseURL, drop: @Sendable () -> Void) {
        let server = try require()
        let name = "runbook_test_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try PostgresConnection(url: server)
        try admin.execute("CREATE DATABASE \(name)")
        return (server.replacingDatabase(name), {
            _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        })
    }
}

/// A fresh store of one kind, in a fresh root; `finish()` (deferred by
/// the test, which keeps it alive until then) drops a PostgreSQL database.
final class TestStore: @unchecked Sendable {
    // Invariant: used by one test at a time.
    let root: TemporaryRoot
    let kind: StoreKind
    private(set) var store: (any Store)!
    private let drop: (@Sendable () -> Void)?
    let location: StoreLocation

    init(_ kind: StoreKind) throws {
        self.kind = kind
        root = try TemporaryRoot()
        try root.workspace.prepareState()
        switch kind {
        case .sqlite:
            location = .sqlite(path: root.workspace.database.path)
            drop = nil
        case .postgres:
            let database = try TestDatabase.create()
            location = .postgres(database.url)
            drop = database.drop
        }
        store = try location.open()
    }

    /// Another connection to the same store, as a second process would have.
    func reopen() throws -> any Store { try location.open() }

    func finish() {
        store = nil
        drop?()
    }
}
