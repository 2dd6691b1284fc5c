// swift-tools-version: 6.1
import PackageDescription

/// Every Swift target: Swift 6 language mode with strict concurrency, and
/// `any` spelled out for existentials.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "runbook",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "runbook", targets: ["runbook"]),
        .library(name: "RunbookKit", targets: ["RunbookKit"]),
    ],
    targets: [
        // The command line: a few lines that hand argv to RunbookKit.
        .executableTarget(
            name: "runbook",
            dependencies: ["RunbookKit"],
            swiftSettings: swiftSettings,
            // gold writes its output through a shared mapping, which leaves
            // the new binary in the page cache as single pages; written with
            // write(), it is cached in large folios, which the kernel maps
            // many pages at a time at each fault: every start of the new
            // binary from the build directory took 0.4 ms less (until the
            // file's pages are evicted and read back, which caches them in
            // large folios either way).
            linkerSettings: [.unsafeFlags(["-Xlinker", "--no-mmap-output-file"], .when(platforms: [.linux]))]
        ),
        // The domain: catalog, revisions, schedules, credentials, execution, store, host.
        .target(
            name: "RunbookKit",
            dependencies: ["CRunbookSpawn", "CSQLite", "CLibPQ"],
            swiftSettings: swiftSettings
        ),
        // What Swift cannot do safely: the code between clone and execve.
        .target(name: "CRunbookSpawn"),
        // The job's first process: reaps, forwards signals, and takes the
        // whole job down with it when the runbook process that owns it dies.
        .executableTarget(
            name: "runbook-init",
            // Started for every job: a fully static binary starts in a third
            // of the time of one that loads the Swift runtime it never uses.
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // PostgreSQL's client library, for several hosts on one database:
        // its header only. libpq itself is loaded with dlopen when a
        // postgres:// store is opened (Store/LibPQ.swift), so no pkgConfig,
        // whose libs would link it into every command.
        .systemLibrary(
            name: "CLibPQ",
            providers: [.apt(["libpq-dev"])]
        ),
        .executableTarget(
            name: "runbook-bench",
            dependencies: ["RunbookKit"],
            path: "bench/RunbookBench",
            swiftSettings: swiftSettings
        ),
        // Unit tests of the library; jobs they run need runbook-init built.
        .testTarget(
            name: "RunbookKitTests",
            dependencies: ["RunbookKit", "runbook-init"],
            swiftSettings: swiftSettings
        ),
        // End-to-end tests: run the built `runbook` binary in temporary roots.
        .testTarget(
            name: "RunbookIntegrationTests",
            dependencies: ["RunbookKit", "runbook", "runbook-init"],
            swiftSettings: swiftSettings
        ),
    ]
)
