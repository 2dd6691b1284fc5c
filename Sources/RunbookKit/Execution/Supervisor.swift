import CRunbookSpawn
import FoundationEssentials
import Glibc

/// What to start: the program (absolute path) and its arguments, its whole
/// environment, its working directory, and rlimits for `runbook-init` to set.
struct LaunchSpec: Sendable {
    var arguments: [String]
    var environment: [String: String]
    var directory: URL?
    /// Resource names (CPU, FSIZE, NOFILE, NPROC, AS, CORE) with `SOFT` or
    /// `SOFT:HARD` values, set by runbook-init in the job's process.
    var limits: [(String, String)] = []
    /// The confinement, nil for none.
    var sandbox: SandboxPolicy? = nil
}

/// How a supervised process ended.
enum Termination: Sendable, Equatable {
    case exited(Int)
    case signalled(Int)
    case couldNotStart(String)
}

/// What the supervisor saw.
struct SupervisedRun: Sendable {
    var termination: Termination
    var timedOut = false
    /// The signal that asked runbook to cancel (SIGINT, SIGTERM), if any.
    var cancelledBy: Int32?
    var peakMemoryKB: Int?
    var cpuMicroseconds: Int?
    var userMicroseconds: Int?
    var systemMicroseconds: Int?
    /// Processes the kernel killed at the memory cgroup's limit.
    var oomKills = 0
    /// Forks refused at the pids cgroup's limit.
    var refusedForks = 0
    /// When a held job's gate opened; nil if it never did.
    var letGoAt: Date?
    /// When a held job's processes had all ended (its clearing up may come
    /// later, see `StartTraffic`).
    var endedAt: Date?
}

/// Runs one job process under `runbook-init` and watches it: streams its
/// output into the recorder, enforces the wall-clock timeout (SIGTERM, a
/// grace period, then SIGKILL to everything the job started), and turns a
/// signal delivered to runbook (Ctrl-C, SIGTERM) into a cancellation.
///
/// It blocks the calling thread; the spawning thread must outlive the job,
/// since the init's parent-death signal is tied to it.
enum Supervisor {
    /// - Parameters:
    ///   - cgroup: the job's cgroups, joined by the spawn child; their
    ///     `cgroup.kill` takes everything down at the KILL stage, and their
    ///     counters give the resource usage.
    ///   - held: when given, the job is readied and held at its start gate
    ///     until its instant and a place (see `HeldStart`); the timeout
    ///     counts from the start.
    static func run(
        _ spec: LaunchSpec, timeout: Int, grace: Int, recorder: OutputRecorder, interruptFD: Int32?, cgroup: JobCgroup? = nil,
        held start: HeldStart? = nil
    ) throws -> SupervisedRun {
        let gate = start?.gate
        let initPath = try ProcessSpawner.installedInitPath()
        let stdout = try Pipe(), stderr = try Pipe(), status = try Pipe()
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(devNull) }

        var initArguments = [initPath, "-p", String(getpid())]
        if gate != nil { initArguments.append("-g") }
        for (name, value) in spec.limits { initArguments += ["-l", "\(name)=\(value)"] }
        initArguments += ["--", spec.arguments[0]] + spec.arguments

        let pid: ProcessID
        do {
            pid = try ProcessSpawner.spawn(initArguments, environment: spec.environment, directory: spec.directory,
                                           descriptors: [devNull, stdout.write, stderr.write, status.write] + (gate.map { [$0.descriptor] } ?? []),
                                           sandbox: spec.sandbox, cgroupFiles: cgroup?.procFiles ?? [])
            cgroup?.closeProcFiles()
            gate?.spawned()
        } catch {
            cgroup?.closeProcFiles()
            gate?.spawned()
            gate?.withdraw()
            for fd in [stdout.read, stdout.write, stderr.read, stderr.write, status.read, status.write] { close(fd) }
            return SupervisedRun(termination: .couldNotStart(error.description))
        }
        close(stdout.write)
        close(stderr.write)
        close(status.write)

        enum Phase { case running, terminating, killing, lastResort }
        var phase = Phase.running
        var result = SupervisedRun(termination: .couldNotStart("runbook-init ended without a status"))
        var statusText: [UInt8] = []
        var open: [Int32: LogStream?] = [stdout.read: .stdout, stderr.read: .stderr, status.read: nil]
        var statusClosedAt: Double?
        var jobGroup: pid_t?
        // A gated job's time runs from its start, not from its readying.
        var deadline = gate == nil ? monotonicSeconds() + Double(timeout) : .infinity
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 8)
        defer { chunk.deallocate() }

        // Held at the gate until the instant, then until a place is free.
        var held = start
        let instant = start.map { monotonicSeconds() + $0.instant.timeIntervalSinceNow } ?? 0
        let ticket = try start?.ticket ?? (start?.places == nil ? nil : JobPlaces.Ticket())
        func giveBackPlace() {
            if let ticket, let places = start?.places { places.giveBack(ticket) }
        }
        // Told once the wait for a place has lasted a second: a wait of
        // milliseconds (a burst of jobs due at once) is not worth a write.
        var queuedForPlace = false
        let patience = 1.0
        // A timed job past its instant, until it starts: other jobs' clearing up waits.
        let traffic = start?.traffic
        var due: StartTraffic.Due?
        /// No longer due: `started`, or gone (withdrawn, or queued for a place).
        func notDue(started: Bool = false) {
            if let job = due { started ? traffic?.started(job) : traffic?.gone(job) }
            due = nil
        }
        func letGo() {
            guard let start = held else { return }
            held = nil
            let at = start.clock()
            guard start.letGo(at) else {
                // Its record was taken while it waited (`runbook cancel`).
                result.cancelledBy = JobCancellation.requestSignal
                start.gate.withdraw()
                notDue()
                giveBackPlace()
                return
            }
            start.gate.open()
            notDue(started: true)
            result.letGoAt = at
        }
        // Once the job is over and reported, runbook-init waits for the gate
        // to close before its exit tears the namespaces down: not while
        // other timed jobs are starting, for at most the traffic's patience.
        var over = false
        var lingeringUntil: Double?
        func stopLingering() {
            lingeringUntil = nil
            start?.gate.release()
        }

        func escalate(_ reason: String) {
            if let start = held {
                // Not started yet: it never will.
                held = nil
                start.gate.withdraw()
                notDue()
                giveBackPlace()
            }
            switch phase {
            case .running:
                recorder.note("\(reason): sending SIGTERM, then SIGKILL after \(grace)s")
                kill(pid.rawValue, SIGTERM)
                phase = .terminating
                deadline = monotonicSeconds() + Double(grace)
            case .terminating:
                recorder.note("still running after the grace period: sending SIGKILL to every process of the job")
                kill(pid.rawValue, SIGUSR1)
                cgroup?.killAll()
                phase = .killing
                deadline = monotonicSeconds() + 5
            case .killing:
                recorder.note("runbook-init did not answer: killing it and the job's process group")
                kill(pid.rawValue, SIGKILL)
                if let jobGroup, (spec.sandbox?.namespaces ?? 0) & Int32(RB_NEW_PID) == 0 { kill(-jobGroup, SIGKILL) }
                phase = .lastResort
                deadline = .infinity
            case .lastResort:
                break
            }
        }

        while !open.isEmpty {
            let now = monotonicSeconds()
            if let closedAt = statusClosedAt, now - closedAt > 2 { break }
            if let until = lingeringUntil, traffic?.isQuiet ?? true || now >= until { stopLingering() }
            if held != nil, now >= instant {
                if due == nil, !queuedForPlace, start?.timed == true { due = traffic?.due() }
                if let ticket, let places = start?.places {
                    if places.take(ticket) {
                        letGo()
                    } else if !queuedForPlace, now >= instant + patience {
                        // Queued now, no longer starting: not in the way of clearing up.
                        queuedForPlace = true
                        notDue()
                        start?.waitingForPlace()
                    }
                } else {
                    letGo()
                }
            }
            if now >= deadline, !over {
                if phase == .running { result.timedOut = true }
                escalate(phase == .running ? "timed out after \(DurationText.format(seconds: timeout))" : "")
                continue
            }
            var fds = open.keys.sorted().map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if let interruptFD { fds.append(pollfd(fd: interruptFD, events: Int16(POLLIN), revents: 0)) }
            let waitingForPlace = held != nil && now >= instant
            if waitingForPlace, let ticket { fds.append(pollfd(fd: ticket.descriptor, events: Int16(POLLIN), revents: 0)) }
            // Nanoseconds, not poll's milliseconds: a held job starts at its instant.
            var until = statusClosedAt != nil ? now + 0.1 : min(deadline, now + 1)
            if held != nil, !waitingForPlace { until = min(until, instant) }
            if waitingForPlace, !queuedForPlace { until = min(until, instant + patience) }
            if let lingering = lingeringUntil, let traffic {
                fds.append(pollfd(fd: traffic.descriptor, events: Int16(POLLIN), revents: 0))
                until = min(until, lingering)
            }
            let ready = rb_poll(&fds, UInt(fds.count), Int64((max(0, until - now) * 1e9).rounded(.up)))
            if ready < 0 && errno != EINTR { throw RunError("poll failed while watching the job: \(Errno.current)") }
            if ready <= 0 { continue }
            for entry in fds where entry.revents != 0 {
                if let ticket, entry.fd == ticket.descriptor {
                    var count: UInt64 = 0
                    _ = read(entry.fd, &count, 8)
                    if start?.places?.holds(ticket) ?? false { letGo() }
                    continue
                }
                if let traffic, entry.fd == traffic.descriptor { continue }
                if entry.fd == interruptFD {
                    var signal: UInt8 = 0
                    while read(entry.fd, &signal, 1) == 1 {
                        if over {
                            // Over and reported: a cancellation has nothing left to stop.
                            stopLingering()
                        } else if result.cancelledBy == nil {
                            result.cancelledBy = Int32(signal)
                            escalate(Int32(signal) == JobCancellation.requestSignal
                                     ? "cancelled with `runbook cancel`" : "cancelled by \(signalName(Int32(signal)))")
                        } else if phase == .terminating {
                            escalate("")
                        }
                    }
                    continue
                }
                let count = read(entry.fd, chunk.baseAddress, chunk.count)
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                guard count > 0 else {
                    close(entry.fd)
                    open[entry.fd] = nil
                    if entry.fd == status.read { statusClosedAt = monotonicSeconds() }
                    continue
                }
                let bytes = UnsafeRawBufferPointer(rebasing: chunk[0..<count])
                if let stream = open[entry.fd] ?? nil {
                    recorder.append(bytes, from: stream)
                } else {
                    statusText += bytes
                    if jobGroup == nil, let group = startedGroup(in: statusText) {
                        jobGroup = group
                        if phase == .running { deadline = monotonicSeconds() + Double(timeout) }
                    }
                    // runbook-init reports last, once every process of the job
                    // has ended: the place is free for the next job now.
                    if !over, Self.hasFinalStatus(statusText) {
                        over = true
                        result.endedAt = start?.clock()
                        giveBackPlace()
                        if result.letGoAt != nil { lingeringUntil = monotonicSeconds() + (traffic?.patience ?? 0) }
                    }
                }
            }
        }
        for fd in open.keys { close(fd) }
        // Every process of the job has ended: its place is free for the next.
        // The gate closes whatever became of it: a job never let go never
        // starts; one that ran lets its runbook-init exit.
        notDue()
        start?.gate.release()
        giveBackPlace()
        // A host's job: what is left (reaping, the cgroups' counters and
        // removal, the record) is bookkeeping that yields to other jobs' starts.
        if start != nil { rb_lower_thread_priority(10) }

        var waitStatus: Int32 = 0
        while waitpid(pid.rawValue, &waitStatus, 0) < 0 && errno == EINTR {}
        // Whatever the job left in its cgroup (there is nothing left in a
        // PID namespace whose init has exited) goes too.
        cgroup?.killAll()
        let reported = parse(String(decoding: statusText, as: UTF8.self), into: &result)
        if let usage = cgroup?.usage() {
            result.oomKills = usage.oomKills
            result.refusedForks = usage.refusedForks
            if let peak = usage.peakMemoryKB { result.peakMemoryKB = peak }
            if let user = usage.userMicroseconds, let system = usage.systemMicroseconds {
                result.userMicroseconds = user
                result.systemMicroseconds = system
                result.cpuMicroseconds = user + system
            }
        }
        let inPIDNamespace = (spec.sandbox?.namespaces ?? 0) & Int32(RB_NEW_PID) != 0
        if !reported, let jobGroup, !inPIDNamespace {
            // runbook-init died without reporting (killed from inside the
            // job, say): the job's group has no keeper any more.
            kill(-jobGroup, SIGKILL)
            recorder.note("runbook-init ended without a status; killed the job's process group")
            result.termination = .signalled(Int(SIGKILL))
        }
        return result
    }

    /// Whether runbook-init's last line (`exit`, `signal`, `not-started`) has come.
    private static func hasFinalStatus(_ status: [UInt8]) -> Bool {
        guard status.last == UInt8(ascii: "\n") else { return false }
        let lastLine = status.dropLast().split(separator: UInt8(ascii: "\n")).last ?? []
        return ["exit ", "signal ", "not-started"].contains { lastLine.starts(with: $0.utf8) }
    }

    /// The job's process group from runbook-init's `started PID` line.
    private static func startedGroup(in status: [UInt8]) -> pid_t? {
        for line in String(decoding: status, as: UTF8.self).split(separator: "\n") where line.hasPrefix("started ") {
            return pid_t(line.dropFirst("started ".count))
        }
        return nil
    }

    /// Reads runbook-init's status lines (see its header comment); true when
    /// a final status was among them.
    @discardableResult
    private static func parse(_ text: String, into result: inout SupervisedRun) -> Bool {
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard let kind = words.first else { continue }
            let numbers = words.dropFirst().compactMap { Int($0) }
            switch kind {
            case "not-started":
                result.termination = .couldNotStart("stopped before it started")
                return true
            case "exec-error":
                let code = Errno(Int32(numbers.first ?? Int(EIO)))
                result.termination = .couldNotStart("cannot execute the runbook: \(code)")
                return true
            case "exit", "signal":
                guard numbers.count == 4 else { continue }
                result.termination = kind == "exit" ? .exited(numbers[0]) : .signalled(numbers[0])
                result.peakMemoryKB = numbers[1]
                result.cpuMicroseconds = numbers[2] + numbers[3]
                result.userMicroseconds = numbers[2]
                result.systemMicroseconds = numbers[3]
                return true
            default:
                continue
            }
        }
        return false
    }

    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

/// `SIGTERM`, `SIGKILL`, ... for a signal number.
func signalName(_ signal: Int32) -> String {
    let names: [Int32: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGABRT: "SIGABRT",
        SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1", SIGSEGV: "SIGSEGV",
        SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGXCPU: "SIGXCPU",
        SIGXFSZ: "SIGXFSZ", SIGSYS: "SIGSYS", SIGTRAP: "SIGTRAP",
    ]
    return names[signal] ?? "signal \(signal)"
}
