import FoundationEssentials
import Glibc

/// The whole environment of a job (DESIGN §3). Nothing of the host's
/// environment leaks in: a fixed PATH, HOME and TMPDIR in the job's scratch
/// directory, LANG and TZ, the RUNBOOK_* facts, then parameters.
public struct JobEnvironment: Sendable {
    public static let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    public var jobID: JobID
    public var runbook: String
    public var revision: Int?
    public var trigger: JobTrigger
    public var attempt: Int
    public var scratch: URL
    public var data: URL
    public var timeZone: String
    public var scheduledTime: String?
    public var lastSuccess: String?
    public var parameters: [String: String]
    /// Facts for particular triggers (an on-failure run's failed job).
    public var extra: [String: String] = [:]

    public var variables: [String: String] {
        var variables = parameters.merging(extra) { $1 }
        variables["PATH"] = Self.path
        variables["HOME"] = scratch.appendingPathComponent("home").path
        variables["TMPDIR"] = scratch.appendingPathComponent("tmp").path
        variables["LANG"] = "C.UTF-8"
        variables["TZ"] = timeZone
        variables["RUNBOOK_NAME"] = runbook
        variables["RUNBOOK_JOB_ID"] = String(jobID.rawValue)
        variables["RUNBOOK_REVISION"] = revision.map(String.init) ?? "draft"
        variables["RUNBOOK_MODE"] = trigger.mode
        if trigger == .test { variables["RUNBOOK_DRY_RUN"] = "1" }
        variables["RUNBOOK_SCHEDULED_TIME"] = scheduledTime ?? ""
        variables["RUNBOOK_LAST_SUCCESS"] = lastSuccess ?? ""
        variables["RUNBOOK_ATTEMPT"] = String(attempt)
        variables["RUNBOOK_DATA"] = data.path
        return variables
    }
}

/// The host's time zone name, for a job's `TZ`: `TZ` itself when runbook
/// has one, else where /etc/localtime points, else UTC. Read from the file
/// system rather than `TimeZone.current`, which loads ICU's zone data (a few
/// milliseconds on every `runbook run`).
enum HostZone {
    static func name(environment: [String: String]) -> String {
        if let zone = environment["TZ"], !zone.isEmpty { return zone.hasPrefix(":") ? String(zone.dropFirst()) : zone }
        return readLink("/etc/localtime")?.suffix(after: "zoneinfo/") ?? "UTC"
    }
}
