import Foundation
import Glibc
import Testing
@testable import RunbookKit

extension MultiHostTests {
    /// The multi-host tests' own PostgreSQL server: it starts despite a busy
    /// port, says why when it cannot, and leaves no server or directory
    /// behind. Nested in the multi-host suite to run when it does (they need
    /// `RUNBOOK_TEST_DATABASE` and PostgreSQL's programs) and never beside it.
    @Suite("Private PostgreSQL server")
    struct PrivateServerTests {
        /// A socket listening on 127.0.0.1, holding its port until it is released.
        final class Listener {
            let socket: Int32
            let port: Int

            init() throws {
                let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
                var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                let ready = withUnsafeMutablePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(socket, $0, length) == 0 && listen(socket, 1) == 0 && getsockname(socket, $0, &length) == 0
                    }
                }
                guard socket >= 0, ready else {
                    let code = errno
                    close(socket)
                    throw RunError("cannot listen on 127.0.0.1: errno \(code)")
                }
                self.socket = socket
                port = Int(UInt16(bigEndian: address.sin_port))
            }

            deinit { close(socket) }
        }

        /// The postmaster's pid, from the first line of `postmaster.pid`.
        static func postmaster(_ data: URL) -> pid_t? {
            let text = try? String(contentsOf: data.appendingPathComponent("postmaster.pid"), encoding: .utf8)
            return text?.split(separator: "\n").first.flatMap { pid_t($0) }
        }

        @Test(.timeLimit(.minutes(2)))
        func aBusyPortIsLeftForAnotherPortAndAFreshDirectory() throws {
            _ = try MultiHostTests.SharedDatabase.server()
            let busy = try Listener()
            var handedOut: [Int] = []
            let server = try PrivateServer {
                handedOut.append(handedOut.isEmpty ? busy.port : PrivateServer.freePort() ?? 0)
                return handedOut.last
            }
            defer { server.remove() }
            try #require(handedOut.count == 2)
            // Before the fix every retry bound the first attempt's port again.
            let sql = try PostgresConnection(url: server.url)
            #expect(try sql.query("SHOW port", []).first?[0].string == String(handedOut[1]))
            #expect(server.url.text.contains(":\(handedOut[1])/"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: server.directory.path) == ["data-2"],
                    "the failed attempt's data directory is removed")
            let pid = try #require(Self.postmaster(server.directory.appendingPathComponent("data-2")))
            server.remove()
            #expect(!isRunning(pid))
            #expect(!FileManager.default.fileExists(atPath: server.directory.path))
        }

        @Test(.timeLimit(.minutes(2)))
        func whenNoAttemptStartsTheErrorSaysWhyAndShowsTheLog() throws {
            _ = try MultiHostTests.SharedDatabase.server()
            let busy = try Listener()
            let error = try #require(throws: PrivateServer.StartError.self) {
                _ = try PrivateServer(attempts: 2) { busy.port }
            }
            #expect(error.attempts.count == 2)
            for attempt in error.attempts {
                #expect(attempt.port == busy.port)
                #expect(attempt.cause.contains("Address already in use"), "\(attempt.cause)")
                #expect(attempt.log.contains("server.log") && attempt.log.contains("FATAL"), "\(attempt.log)")
            }
            #expect("\(error)".contains("port \(busy.port): .ci/postgres.sh start failed (exit status 1)"), "\(error)")
            #expect(!FileManager.default.fileExists(atPath: error.directory.path))
        }

        @Test(.timeLimit(.minutes(2)))
        func aServerLeftByADeadTestProcessIsStoppedAndRemoved() throws {
            _ = try MultiHostTests.SharedDatabase.server()
            // A directory as a test process leaves it when killed: its server running.
            let owner = Process()
            owner.executableURL = URL(fileURLWithPath: "/bin/sleep")
            owner.arguments = ["600"]
            try owner.run()
            // SIGKILL, not terminate(): the child has the test thread's
            // signal mask, in which SIGTERM is blocked.
            defer { if owner.isRunning { kill(owner.processIdentifier, SIGKILL) } }
            var template = Array((FileManager.default.temporaryDirectory.path + "/runbook-pg-\(owner.processIdentifier)-XXXXXX").utf8CString)
            let leftover = URL(fileURLWithPath: String(cString: try #require(mkdtemp(&template))))
            chmod(leftover.path, 0o755)
            defer { try? FileManager.default.removeItem(at: leftover) }
            let data = leftover.appendingPathComponent("data-1")
            let started = PrivateServer.run(["start", data.path], port: try #require(PrivateServer.freePort()), scratch: leftover)
            try #require(started.status == 0, "\(started)")
            let pid = try #require(Self.postmaster(data))
            defer { if isRunning(pid) { kill(pid, SIGKILL) } }
            kill(owner.processIdentifier, SIGKILL)
            owner.waitUntilExit()

            let server = try PrivateServer()
            server.remove()
            #expect(!isRunning(pid), "the dead process's server still runs")
            #expect(!FileManager.default.fileExists(atPath: leftover.path))
        }
    }
}
