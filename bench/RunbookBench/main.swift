import Foundation

/// Benchmarks that need the library from inside (the whole-process
/// benchmarks are shell scripts beside this folder).
///   runbook-bench schedules [--mix FILE] | schedules eval FILE | capture [MB]
///   runbook-bench sandbox [ITERATIONS]
let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "schedules":
        try runScheduleBench(arguments: Array(arguments.dropFirst()))
    case "capture":
        try runCaptureBench(arguments: Array(arguments.dropFirst()))
    case "sandbox":
        try runSandboxBench(arguments: Array(arguments.dropFirst()))
    default:
        FileHandle.standardError.write(Data("usage: runbook-bench schedules [--mix FILE] | schedules eval FILE | capture [MB] | sandbox [ITERATIONS]\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("runbook-bench: \(error)\n".utf8))
    exit(1)
}
