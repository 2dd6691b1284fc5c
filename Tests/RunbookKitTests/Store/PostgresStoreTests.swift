import Foundation
import Testing
@testable import RunbookKit

/// What only the PostgreSQL store does: its URL, its migrations, and how it
/// fails. Cases that need a server skip without `RUNBOOK_TEST_DATABASE`.
@Suite("PostgreSQL store", .serialized)
struct PostgresStoreTests {
    @Test(arguments: [
        ("postgres://ops:s3cret@db.example:5432/runbook", "postgres://ops:***@db.example:5432/runbook"),
        ("postgresql://ops:p%40ss@db/runbook?sslmode=require", "postgresql://ops:***@db/runbook?sslmode=require"),
        ("postgres://ops@db/runbook?password=s3cret&sslmode=require", "postgres://ops@db/runbook?password=***&sslmode=require"),
        ("postgres://db/runbook", "postgres://db/runbook"),
        ("postgres://a:b:c@d@db/x", "postgres://a:***@db/x"),
    ])
    func urlsNeverShowThePassword(_ given: String, _ shown: String) throws {
        let url = try DatabaseURL(given)
        #expect(url.description == shown)
        #expect("\(url)".contains("s3cret") == false)
    }

    @Test func otherDatabaseOnTheSameServer() throws {
        let url = try DatabaseURL("postgres://ops:pw@db:5433/runbook?sslmode=disable")
        #expect(url.replacingDatabase("other").text == "postgres://ops:pw@db:5433/other?sslmode=disable")
        #expect(url.databaseName == "runbook")
        #expect(try DatabaseURL("postgres://db").replacingDatabase("x").text == "postgres://db/x")
    }

    /// Without libpq installed, opening a postgres:// store is one line that
    /// names the URL without its password and the package to install; the
    /// process goes on (other stores still work).
    @Test func missingLibPQIsAnErrorNotACrash() throws {
        let url = try DatabaseURL("postgres://ops:s3cret@db.example/runbook")
        let error = try #require(throws: StoreError.self) {
            try PostgresConnection(url: url, libraryName: "libpq-runbook-test-missing.so.5")
        }
        #expect(error.code == .open)
        #expect(error.message.hasPrefix("cannot open the database postgres://ops:***@db.example/runbook: "))
        #expect(error.message.contains("libpq-runbook-test-missing.so.5"))
        #expect(error.message.contains("apt install libpq5"))
        #expect(error.message.contains("s3cret") == false)
        #expect(error.message.contains("\n") == false)
    }

    @Test func selection() throws {
        let state = URL(fileURLWithPath: "/srv/state")
        #expect(try StoreLocation.select(option: nil, environment: [:], stateDirectory: state) == .sqlite(path: "/srv/state/runbook.db"))
        #expect(try StoreLocation.select(option: nil, environment: ["RUNBOOK_DATABASE": "sqlite"], stateDirectory: state)
                == .sqlite(path: "/srv/state/runbook.db"))
        let fromEnvironment = try StoreLocation.select(option: nil, environment: ["RUNBOOK_DATABASE": "postgres://a:b@h/d"], stateDirectory: state)
        #expect(fromEnvironment == .postgres(try DatabaseURL("postgres://a:b@h/d")))
        #expect(fromEnvironment.description == "postgres://a:***@h/d")
        // The option wins over the environment.
        #expect(try StoreLocation.select(option: "postgresql://h/o", environment: ["RUNBOOK_DATABASE": "postgres://h/e"], stateDirectory: state)
                == .postgres(try DatabaseURL("postgresql://h/o")))
    }

    @Test func unreachableServerIsOneLineWithoutThePassword() throws {
        // Port 1 on loopback: nothing listens there, so the refusal is immediate.
        let url = try DatabaseURL("postgres://ops:s3cret@127.0.0.1:1/runbook")
        let error = try #require(throws: StoreError.self) { try PostgresStore(url: url) }
        #expect(error.code == .unavailable)
        #expect(error.message.contains("postgres://ops:***@127.0.0.1:1/runbook"))
        #expect(!error.message.contains("s3cret"))
        #expect(!error.message.contains("\n"))
        #expect(error.message.contains("check the URL"))
    }

    @Test func hostsStartingTogetherMigrateOnce() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let opened = Opened()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            do { opened.add(try PostgresStore(url: database.url)) } catch { opened.fail(error) }
        }
        #expect(opened.errors.isEmpty, "\(opened.errors)")
        let store = try #require(opened.stores.first)
        #expect(try store.postgres.query("SELECT version FROM runbook_schema").map { $0[0].int } == [PostgresMigrations.steps.count])
        #expect(try store.postgres.query("SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'jobs'").first?[0].int == 1)
    }

    @Test func refusesANewerSchema() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let store = try PostgresStore(url: database.url)
        try store.postgres.execute("UPDATE runbook_schema SET version = 99")
        let error = try #require(throws: StoreError.self) { try PostgresStore(url: database.url) }
        #expect(error.code == .schema && error.message.contains("upgrade runbook"))
    }

    @Test func lostConnectionComesBack() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let store = try PostgresStore(url: database.url)
        let server = try PostgresConnection(url: database.url)
        // Cut every other session to the database, as a server restart would.
        try server.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        let error = try #require(throws: StoreError.self) { try store.jobCount() }
        #expect(error.code == .unavailable)
        #expect(error.message.contains(database.url.description))
        #expect(eventually { (try? store.jobCount()) == 0 })
    }
}

/// Stores opened by concurrent threads.
final class Opened: @unchecked Sendable {
    // Invariant: both arrays are only touched under `lock`.
    private let lock = NSLock()
    private var opened: [PostgresStore] = []
    private var failures: [String] = []
    func add(_ store: PostgresStore) { lock.lock(); opened.append(store); lock.unlock() }
    func fail(_ error: any Error) { lock.lock(); failures.append("\(error)"); lock.unlock() }
    var stores: [PostgresStore] { lock.lock(); defer { lock.unlock() }; return opened }
    var errors: [String] { lock.lock(); defer { lock.unlock() }; return failures }
}
