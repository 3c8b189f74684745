// SPDX-License-Identifier: Apache-2.0
import PeregrineCapture
import PeregrineConfig
import PeregrineCore
import PeregrineEngine
import PeregrineSystem
import Testing

/// Precedence: defaults < file < command line.
@Suite("CommandLineOverrides")
struct CommandLineOverridesTests {
    static let file = """
        capture:
          interfaces: [eth1]
          workers: 2
          cpus: 0-1
        logs:
          directory: .
          format: tsv
        """

    @Test("command-line values replace the file's; what the command line leaves keeps the file's value")
    func flagsWin() throws {
        var flags = CommandLineOverrides()
        flags.interfaces = ["eth7", "eth8"]
        flags.useJSON = true
        flags.ignoreChecksums = true
        flags.options = ["Site::local_nets={192.0.2.0/24}"]
        let s = try parse(Self.file, overrides: flags).get()
        #expect(s.interfaces.map(\.name) == ["eth7", "eth8"])
        #expect(s.engine.useJSON && s.engine.ignoreChecksums)
        #expect(s.engine.localNetworks.map(\.description) == ["192.0.2.0/24"])
        #expect(s.engine.workers == 2 && s.cpus?.set.cpus == [0, 1])
    }

    @Test("--cpus without --workers runs one worker per listed CPU")
    func cpusSetWorkers() throws {
        var flags = CommandLineOverrides()
        flags.cpus = "4-7"
        let s = try parse(Self.file, overrides: flags).get()
        #expect(s.engine.workers == 4 && s.cpus?.set.cpus == [4, 5, 6, 7])
    }

    @Test("a combination made impossible by a flag is blamed on the flag")
    func flagProblems() {
        var flags = CommandLineOverrides()
        flags.workers = 3
        flags.options = ["no_such_option=1"]
        #expect(
            problems(parse(Self.file, overrides: flags)) == [
                "command line: option no_such_option: not a known option",
                "command line: --workers: 3 workers but the CPU list '0-1' names only 2 CPUs (one worker per CPU)",
            ]
        )
        var bad = CommandLineOverrides()
        bad.cpus = "1-"
        #expect(
            problems(parse(Self.file, overrides: bad)) == [
                "command line: --cpus: invalid CPU list '1-': '1-' is not N or N-M"
            ]
        )
    }

    @Test("overridden(by:) applies flags to settings already loaded")
    func overriddenBy() throws {
        var flags = CommandLineOverrides()
        flags.workers = 6
        flags.captureMode = .auto
        flags.logDirectory = "/srv/logs"
        let s = try SensorSettings().overridden(by: flags)
        #expect(s.engine.workers == 6 && s.captureMode == .auto && s.engine.logDirectory == "/srv/logs")
        flags.scripts = ["misc/stats"]
        #expect(try SensorSettings().overridden(by: flags).engine.statsLogging)
        flags.scripts = ["nope"]
        #expect(throws: ConfigurationProblems.self) { try SensorSettings().overridden(by: flags) }
    }

    @Test("without a file: defaults and the command line")
    func noFile() throws {
        var flags = CommandLineOverrides()
        flags.interfaces = ["eth1"]
        let s = try ConfigurationFile.load(path: nil, overrides: flags, system: eightCPUs).get()
        #expect(s.interfaces.map(\.name) == ["eth1"] && s.engine.workers == 1)
    }
}

@Suite("ValueSyntax")
struct ValueSyntaxTests {
    @Test(
        "sizes: bytes and binary units",
        arguments: [
            ("4096", 4096), ("64KiB", 65536), ("1MiB", 1 << 20), ("1 MiB", 1 << 20), ("128M", 128 << 20),
            ("1.5GiB", 3 << 29), ("2TiB", 2 << 40), ("1_048_576", 1 << 20),
        ]
    )
    func sizes(text: String, bytes: Int) throws {
        let s = try parse("logs:\n  directory: .\n  rotation_interval: 1h\n  retention:\n    max_size: \(text)\n").get()
        #expect(s.engine.logRetentionBytes == Int64(bytes))
    }

    @Test("decimal and unknown size units are refused", arguments: ["1MB", "12 parsecs", "-1", "0.5"])
    func badSizes(text: String) {
        #expect(problems(parse("capture:\n  af_packet:\n    block_size: \(text)\n")).count == 1)
    }

    @Test(
        "intervals: short units and Zeek's",
        arguments: [
            ("10ms", 10_000_000), ("30s", 30_000_000_000), ("5m", 300_000_000_000), ("5 min", 300_000_000_000),
            ("1h", 3_600_000_000_000), ("1hr", 3_600_000_000_000), ("2days", 172_800_000_000_000),
            ("300", 300_000_000_000),
        ]
    )
    func intervals(text: String, nanoseconds: Int64) throws {
        let s = try parse("stats:\n  interval: \(text)\n").get()
        #expect(s.engine.statsInterval == Interval(nanoseconds: nanoseconds))
    }

    @Test("a zero or endless interval is refused where a period is needed")
    func badIntervals() {
        #expect(
            problems(parse("stats:\n  interval: 0\n")) == [
                "test.yaml:2: stats.interval: the interval must be above zero, got '0'"
            ]
        )
        #expect(
            problems(parse("stats:\n  interval: 99999999999h\n")) == [
                "test.yaml:2: stats.interval: '99999999999h' is too long"
            ]
        )
    }

    @Test("listen addresses", arguments: ["127.0.0.1:9911", "[::1]:9911", "localhost:9911", "metrics-host:80"])
    func listen(text: String) {
        #expect(ListenAddress(text)?.description == text)
    }

    @Test(
        "bad listen addresses",
        arguments: ["9911", "127.0.0.1", "::1:9911", "[::1:9911", "300.1.1.1:80", "host:0", "host:70000"]
    )
    func badListen(text: String) {
        #expect(ListenAddress(text) == nil)
    }
}
