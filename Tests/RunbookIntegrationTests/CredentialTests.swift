import Foundation
import Glibc
import Testing

/// Credentials end to end: least privilege, test sections, and masking in
/// the recorded log (read raw from the state directory) and on the terminal.
@Suite("Credentials", .serialized)
struct CredentialTests {
    static let secret = "s3cr3t-Pa55word-9000"

    static func root(credentials: String, mode: mode_t = 0o600) throws -> RunbookProcess.Root {
        let root = try RunbookProcess.Root()
        try root.write("credentials", credentials)
        chmod(root.url.appendingPathComponent("credentials").path, mode)
        return root
    }

    /// Every log file of the state directory, raw.
    static func rawLogs(_ root: RunbookProcess.Root) throws -> String {
        let logs = root.url.appendingPathComponent(".runbook/logs")
        return try FileManager.default.contentsOfDirectory(atPath: logs.path).map {
            try String(contentsOf: logs.appendingPathComponent($0), encoding: .utf8)
        }.joined()
    }

    @Test func secretsNeverReachTheLogOrTheTerminal() throws {
        let root = try Self.root(credentials: "[crm]\npassword = \(Self.secret)\nuser = ops-bot\n")
        try root.write("runbooks/leaky.py", """
            # runbook: credentials = crm
            import base64, os, sys, json, urllib.parse
            secret = os.environ["CRM_PASSWORD"]
            print("plain:", secret)
            for ch in secret:
                sys.stdout.write(ch)
                sys.stdout.flush()
            sys.stdout.write("\\n")
            for prefix in ["", "x", "xy"]:
                print("b64:", base64.b64encode((prefix + secret + " tail").encode()).decode())
            print("url:", urllib.parse.quote(secret + " &"))
            print("json:", json.dumps({"password": secret}))
            print("stderr too:", secret, file=sys.stderr)
            raise RuntimeError("cannot log in with " + secret)
            """)
        let result = try root.run("test", "leaky")
        #expect(result.status == 1)
        let logs = try Self.rawLogs(root)
        for text in [logs, result.out, result.err] {
            #expect(!text.contains(Self.secret))
            #expect(!text.contains("czNjcjN0LVBhNTV3b3JkLTkwMDA"), "base64 of the secret leaked")
            #expect(!text.contains("LVBhNTV3b3JkLTkwMD"))
            #expect(!text.contains("Pa55word"))
        }
        #expect(logs.contains("out plain: ***"))
        #expect(logs.contains("RuntimeError: cannot log in with ***"))
        #expect(result.out.contains("plain: ***"))
        #expect(result.err.contains("credential crm"))
    }

    @Test func undeclaredCredentialsAreInvisible() throws {
        let root = try Self.root(credentials: "[crm]\npassword = \(Self.secret)\n[erp]\ntoken = erp-token-1234\n")
        try root.write("runbooks/nosy.sh", "# runbook: credentials = erp\nenv | sort\ntr '\\0' '\\n' < /proc/self/environ\n")
        let result = try root.run("test", "nosy")
        #expect(result.status == 0)
        #expect(!result.out.contains("CRM_PASSWORD"))
        #expect(!result.out.contains(Self.secret))
        #expect(result.out.contains("ERP_TOKEN=***"))
        #expect(try !Self.rawLogs(root).contains("CRM_"))
    }

    @Test func aMissingCredentialFailsBeforeTheJobStarts() throws {
        let root = try Self.root(credentials: "[crm]\npassword = env:CRM_PASSWORD_FROM_HOST\n")
        // RUNBOOK_DATA is the one place both the sandboxed job and the host see.
        let marker = root.url.appendingPathComponent(".runbook/data/needs.test/ran")
        try root.write("runbooks/needs.sh", "# runbook: credentials = crm, vault\ntouch \"$RUNBOOK_DATA/ran\"\n")
        let result = try root.run("test", "needs", environment: ["CRM_PASSWORD_FROM_HOST": "from-the-host-env"])
        #expect(result.status == 1)
        #expect(!FileManager.default.fileExists(atPath: marker.path))
        let job = try #require(try root.jobs().first)
        #expect(job["status"] as? String == "failed")
        #expect((job["reason"] as? String)?.contains("vault") == true)
        #expect(job["started_at"] != nil)
        // An env: value that the host lacks is named, never guessed.
        try root.write("runbooks/needs.sh", "# runbook: credentials = crm\ntouch \"$RUNBOOK_DATA/ran\"\n")
        let missingVariable = try root.run("test", "needs")
        #expect(missingVariable.status == 1)
        #expect(missingVariable.err.contains("CRM_PASSWORD_FROM_HOST"))
        #expect(!FileManager.default.fileExists(atPath: marker.path))
        let resolved = try root.run("test", "needs", environment: ["CRM_PASSWORD_FROM_HOST": "from-the-host-env"])
        #expect(resolved.status == 0)
        #expect(FileManager.default.fileExists(atPath: marker.path))
    }

    @Test func dryRunsPreferTestSections() throws {
        let root = try Self.root(credentials: "[crm]\nuser = production-user\n[crm@test]\nuser = sandbox-user\n[erp]\nuser = erp-production\n")
        try root.write("runbooks/who.sh", "# runbook: credentials = crm, erp\necho \"$CRM_USER\" | rev\necho \"$ERP_USER\" | rev\n")
        let test = try root.run("test", "who")
        #expect(test.out == "resu-xobdnas\nnoitcudorp-pre\n")
        #expect(test.err.contains("credential crm: using [crm@test]"))
        #expect(test.err.contains("credential erp: using [erp]"))
        try root.run("publish", "who")
        #expect(try root.run("run", "who").out == "resu-noitcudorp\nnoitcudorp-pre\n")
    }

    @Test func multiLineValuesComeAsFiles() throws {
        let key = "-----BEGIN KEY-----\nAAAABBBBCCCC\nDDDDEEEEFFFF\n-----END KEY-----\n"
        let root = try Self.root(credentials: "[deploy]\nkey = \"\"\"\n\(key)\"\"\"\n")
        try root.write("runbooks/deploy.sh", "# runbook: credentials = deploy\nstat -c %a \"$DEPLOY_KEY_FILE\"\nmd5sum < \"$DEPLOY_KEY_FILE\" | cut -c1-8\ncat \"$DEPLOY_KEY_FILE\"\n")
        let result = try root.run("test", "deploy")
        #expect(result.status == 0)
        let lines = result.out.split(separator: "\n")
        #expect(lines.first == "600")
        #expect(!result.out.contains("AAAABBBBCCCC"))
        #expect(result.out.contains("***"))
    }

    @Test(arguments: [mode_t(0o640), 0o604, 0o644])
    func refusesAFileOthersCanRead(mode: mode_t) throws {
        let root = try Self.root(credentials: "[crm]\npassword = \(Self.secret)\n", mode: mode)
        try root.write("runbooks/uses.sh", "# runbook: credentials = crm\necho hi\n")
        let result = try root.run("test", "uses")
        #expect(result.status == 1)
        #expect(result.err.contains("chmod 600"))
        #expect(!result.err.contains(Self.secret))
        let check = try root.run("check")
        #expect(check.status == 1)
        #expect(check.err.contains("chmod 600"))
    }

    @Test func credentialsCommandAndCheck() throws {
        let root = try Self.root(credentials: "[crm]\npassword = \(Self.secret)\ntoken = env:CRM_TOKEN\npin = 12\n[unused]\nkey = file:/etc/hostname\n")
        try root.write("runbooks/a.sh", "# runbook: credentials = crm, ghost\necho\n")
        try root.write("runbooks/b.sh", "# runbook: credentials = crm\n# runbook: parameters = CRM_TOKEN=x\necho\n")
        let listed = try root.run("credentials")
        #expect(listed.status == 0)
        #expect(!listed.out.contains(Self.secret) && !listed.err.contains(Self.secret))
        #expect(listed.out.contains("CRM_PASSWORD"))
        #expect(listed.out.contains("env:CRM_TOKEN"))
        #expect(listed.out.contains("a, b"))
        let check = try root.run("check")
        #expect(check.status == 1)
        #expect(check.err.contains("credential 'ghost' is declared but credentials has no [ghost] section"))
        #expect(check.err.contains("credential 'unused' is not used"))
        #expect(check.err.contains("pin is shorter than 4 characters"))
        #expect(check.err.contains("runbooks/b.sh: error:") && check.err.contains("CRM_TOKEN"))
        #expect(!check.err.contains(Self.secret))
        let publish = try root.run("publish", "b")
        #expect(publish.status == 1)
        #expect(publish.err.contains("CRM_TOKEN"))
    }
}

/// No command, error or record ever holds a secret: the whole state
/// directory and every command's output are searched for the values.
@Suite("Credentials leave no trace", .serialized)
struct CredentialTraceTests {
    @Test func noCommandOrFileHoldsASecret() throws {
        let secrets = ["alpha-secret-value-1", "beta-token-22222", "gamma multi word secret"]
        let root = try CredentialTests.root(credentials: """
            [crm]
            password = \(secrets[0])
            token = env:CRM_TOKEN
            [erp]
            key = "\(secrets[2])"
            """)
        let environment = ["CRM_TOKEN": secrets[1]]
        try root.write("runbooks/uses.sh", """
            # runbook: credentials = crm, erp
            echo "$CRM_PASSWORD $CRM_TOKEN $ERP_KEY"
            echo "$CRM_PASSWORD" >&2
            exit 4
            """)
        try root.write("schedules/uses.schedule", "every = 1 hours\n")
        var outputs: [String] = []
        for arguments in [["test", "uses"], ["publish", "uses"], ["run", "uses"], ["jobs", "--json"], ["logs", "1"], ["logs", "2", "--timestamps"],
                          ["show", "uses", "--json"], ["credentials", "--json"], ["credentials"], ["check"], ["versions", "uses"],
                          ["list", "--json"], ["schedules", "--json"], ["diff", "uses", "1"]] {
            let result = try root.run(arguments, environment: environment)
            outputs += [result.out, result.err]
        }
        #expect(try root.jobs().map { $0["status"] as? String } == ["failed", "failed"])
        var stateBytes = Data()
        let state = root.url.appendingPathComponent(".runbook")
        let walker = FileManager.default.enumerator(at: state, includingPropertiesForKeys: [.isRegularFileKey])
        while let file = walker?.nextObject() as? URL {
            if (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                stateBytes.append(try Data(contentsOf: file))
            }
        }
        #expect(stateBytes.count > 0)
        for secret in secrets {
            #expect(stateBytes.range(of: Data(secret.utf8)) == nil, "'\(secret)' is in the state directory")
            for output in outputs { #expect(!output.contains(secret), "'\(secret)' was printed") }
        }
    }

    /// Bad credentials files: each is refused with the place and the fix,
    /// never with the value.
    @Test(arguments: [
        ("[crm]\npassword = hunter2-value\n[crm]\nuser = x\n", "credentials:3", "already defined"),
        ("[crm]\npassword = file:/nonexistent/secret\n", "/nonexistent/secret", "crm"),
        ("[crm]\npassword = env:NOT_SET_ANYWHERE_42\n", "NOT_SET_ANYWHERE_42", "crm"),
        ("password = hunter2-value\n", "credentials:1", "section"),
        ("[crm]\r\npassword = \"with=equals#and-hash\"\r\n", "", ""),
    ])
    func badFiles(text: String, place: String, fragment: String) throws {
        let root = try CredentialTests.root(credentials: text)
        try root.write("runbooks/uses.sh", "# runbook: credentials = crm\necho \"[$CRM_PASSWORD]\" | rev\n")
        let result = try root.run("test", "uses")
        if place.isEmpty {
            #expect(result.status == 0)
            #expect(result.out == "]hsah-dna#slauqe=htiw[\n")
        } else {
            #expect(result.status == 1)
            #expect(result.err.contains(place), "stderr: \(result.err)")
            #expect(result.err.contains(fragment))
            #expect(!result.err.contains("hunter2-value"))
        }
    }

    @Test func nonUTF8ByteIsRefusedWithItsLine() throws {
        let root = try CredentialTests.root(credentials: "")
        try Data("[crm]\npassword = caf".utf8 + [0xe9] + Data("\n".utf8)).write(to: root.url.appendingPathComponent("credentials"))
        try root.write("runbooks/uses.sh", "# runbook: credentials = crm\necho\n")
        let result = try root.run("test", "uses")
        #expect(result.status == 1)
        #expect(result.err.contains("credentials:2"))
        #expect(!result.err.contains("caf"))
    }
}
