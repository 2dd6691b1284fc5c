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

    func names(_ directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    @Test func aReturnedDirectoryComesBackEmptyUnderTheNextJobsName() throws {
        let root = try TemporaryRoot()
        let pool = ScratchPool(directory: root.url.appendingPathComponent("scratch"))
        let first = pool.take(for: JobID(rawValue: 7))
        #expect(first.lastPathComponent == "7")
        try prepare(first)
        // What a job leaves: files, nested directories, a changed mode, a credentials directory.
        try root.write("scratch/7/home/.cache/x/y", Data("left".utf8))
        try root.write("scratch/7/tmp/t", Data("left".utf8))
        try root.write("scratch/7/credentials/KEY", Data("secret".utf8))
        chmod(first.appendingPathComponent("home").path, 0o777)
        pool.giveBack(first)
        #expect(try names(pool.directory) == ["idle-7"])

        let second = pool.take(for: JobID(rawValue: 8))
        #expect(second.lastPathComponent == "8")
        #expect(try names(pool.directory) == ["8"])
        #expect(try names(second) == ["home", "tmp"])
        #expect(try names(second.appendingPathComponent("home")).isEmpty)
        #expect(try names(second.appendingPathComponent("tmp")).isEmpty)
        var info = stat()
        #expect(stat(second.appendingPathComponent("home").path, &info) == 0 && info.st_mode & 0o7777 == 0o700)
    }

    @Test func aDirectoryWhoseHomeWasReplacedIsRemoved() throws {
        let root = try TemporaryRoot()
        let pool = ScratchPool(directory: root.url.appendingPathComponent("scratch"))
        let scratch = pool.take(for: JobID(rawValue: 1))
        try prepare(scratch)
        let outside = root.url.appendingPathComponent("outside")
        try root.write("outside/keep", Data("keep".utf8))
        try FileManager.default.removeItem(at: scratch.appendingPathComponent("home"))
        try FileManager.default.createSymbolicLink(at: scratch.appendingPathComponent("home"), withDestinationURL: outside)
        pool.giveBack(scratch)
        #expect(try names(pool.directory).isEmpty)
        #expect(FileManager.default.fileExists(atPath: outside.appendingPathComponent("keep").path))
    }

    @Test func anIdleDirectoryIsEmptiedBeforeUse() throws {
        let root = try TemporaryRoot()
        let pool = ScratchPool(directory: root.url.appendingPathComponent("scratch"))
        // Written into after it went idle.
        try root.write("scratch/idle-3/home/planted", Data("x".utf8))
        try root.write("scratch/idle-3/tmp/.keep", Data())
        let scratch = pool.take(for: JobID(rawValue: 4))
        // Emptied on the way in, so the job still starts with nothing.
        #expect(!FileManager.default.fileExists(atPath: scratch.appendingPathComponent("home/planted").path))
        #expect(try names(pool.directory).allSatisfy { !$0.hasPrefix("idle-") })
    }
}
