import Foundation
import Glibc
import Testing
@testable import RunbookKit

@Suite("Scratch pool")
struct ScratchPoolTests {
    /// A directory as JobRunner makes it: `home` and `tmp`, mode 0700.
    func prepare(_ scratch: URL) throws {
        for name in ["home", "tmp"] {
            try FileManager.default.createDirectory(at: scratch.appendingPathComponent(name), withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
    }

    @Test func aReturnedDirectoryComesBackEmpty() throws {
        let root = try TemporaryRoot()
        let pool = ScratchPool(directory: root.url.appendingPathComponent("scratch"))
        let first = pool.take()
        try prepare(first)
        // What a job leaves: files, nested directories, a changed mode, a credentials directory.
        try root.write("scratch/\(first.lastPathComponent)/home/.cache/x/y", Data("left".utf8))
        try root.write("scratch/\(first.lastPathComponent)/tmp/t", Data("left".utf8))
        try root.write("scratch/\(first.lastPathComponent)/credentials/KEY", Data("secret".utf8))
        chmod(first.appendingPathComponent("home").path, 0o777)
        pool.giveBack(first)

        let second = pool.take()
        #expect(second == first)
        #expect(try FileManager.default.contentsOfDirectory(atPath: second.path).sorted() == ["home", "tmp"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: second.appendingPathComponent("home").path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: second.appendingPathComponent("tmp").path).isEmpty)
        var info = stat()
        #expect(stat(second.appendingPathComponent("home").path, &info) == 0 && info.st_mode & 0o7777 == 0o700)
        pool.giveBack(second)
        pool.removeAll()
        #expect(!FileManager.default.fileExists(atPath: second.path))
    }

    @Test func aDirectoryWhoseHomeWasReplacedIsNotReused() throws {
        let root = try TemporaryRoot()
        let pool = ScratchPool(directory: root.url.appendingPathComponent("scratch"))
        let scratch = pool.take()
        try prepare(scratch)
        let outside = root.url.appendingPathComponent("outside")
        try root.write("outside/keep", Data("keep".utf8))
        try FileManager.default.removeItem(at: scratch.appendingPathComponent("home"))
        try FileManager.default.createSymbolicLink(at: scratch.appendingPathComponent("home"), withDestinationURL: outside)
        pool.giveBack(scratch)
        #expect(!FileManager.default.fileExists(atPath: scratch.path))
        #expect(FileManager.default.fileExists(atPath: outside.appendingPathComponent("keep").path))
        #expect(pool.take() != scratch)
    }

    @Test func aDeadHostsDirectoriesAreRemoved() throws {
        let root = try TemporaryRoot()
        let scratch = root.url.appendingPathComponent("scratch")
        // A pid that cannot be running (above pid_max), and a job's own directory.
        try root.write("scratch/host-999999999-1/home/x", Data())
        try root.write("scratch/42/home/x", Data())
        _ = ScratchPool(directory: scratch)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["42"])
    }
}
