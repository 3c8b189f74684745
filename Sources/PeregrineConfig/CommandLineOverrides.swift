// SPDX-License-Identifier: Apache-2.0
import PeregrineEngine
import PeregrineSystem

/// Values given on the command line, which win over the file. `nil` (or empty) leaves the file's
/// value, so a flag the operator did not type changes nothing: map an absent `--json` to `nil`,
/// not to `false`.
public struct CommandLineOverrides: Sendable {
    /// `-i IFACE[,IFACE]`: replaces the file's interfaces (their fanout ids too).
    public var interfaces: [String]?
    /// `--capture af_packet|af_xdp|auto`.
    public var captureMode: CaptureMode?
    /// `--fanout hash|ebpf`: `true` for ebpf.
    public var ebpfFanout: Bool?
    /// `--bpf-dir DIR`.
    public var bpfDirectory: String?
    /// `--workers N`.
    public var workers: Int?
    /// `--cpus LIST`, in cpuset(7) list format; without `--workers` it also sets one worker per listed CPU.
    public var cpus: String?
    /// `--logdir DIR`.
    public var logDirectory: String?
    /// `--json`.
    public var useJSON: Bool?
    /// `-C`: `true` ignores checksums.
    public var ignoreChecksums: Bool?
    /// `-f FILTER`.
    public var captureFilter: String?
    /// `--shunt`: `true` turns shunting on.
    public var shunt: Bool?
    /// `--shunt-bytes SIZE`: the byte threshold (``ShuntPolicy/bytes``), as typed.
    public var shuntBytes: String?
    /// Zeek-style `Name=value` options (``Configuration/apply(option:)``), applied after everything else.
    public var options: [String] = []
    /// Built-in policy script names (``Configuration/load(script:)``), applied after the options.
    public var scripts: [String] = []

    /// No overrides.
    public init() {}
}

extension CommandLineOverrides {
    /// `--shunt-bytes`'s value: a size such as `10MiB` (``ValueSyntax``), 0 for off.
    /// - Throws: ``ConfigurationProblems`` with the one problem, naming the flag.
    public static func shuntBytes(_ text: String) throws(ConfigurationProblems) -> UInt64 {
        switch ValueSyntax.size(text) {
        case .value(let n): return UInt64(n)
        case .invalid(let reason):
            throw ConfigurationProblems([
                ConfigurationProblem(source: ConfigurationProblem.commandLine, line: nil, reason: "--shunt-bytes: \(reason)")
            ])
        }
    }
}

extension SensorSettings {
    /// These settings with every value the command line gives replacing the file's (precedence:
    /// defaults < file < command line). Checks only what a flag's own text can get wrong (a CPU
    /// list that does not parse, an unknown option); the combined settings are checked against
    /// the machine by ``ConfigurationFile/load(path:overrides:system:)``.
    ///
    /// - Throws: ``ConfigurationProblems`` with one problem per bad flag, each from
    ///   ``ConfigurationProblem/commandLine``.
    public func overridden(by flags: CommandLineOverrides) throws(ConfigurationProblems) -> SensorSettings {
        var keys = Set<String>()
        let (result, problems) = overridden(by: flags, keys: &keys)
        guard problems.isEmpty else { throw ConfigurationProblems(problems) }
        return result
    }

    /// The overriding of ``overridden(by:)``, adding to `keys` the dotted file keys the command
    /// line replaced (so a later check blames the flag, not the file's line).
    func overridden(by flags: CommandLineOverrides, keys: inout Set<String>) -> (SensorSettings, [ConfigurationProblem])
    {
        var s = self
        var problems: [ConfigurationProblem] = []
        func problem(_ reason: String) {
            problems.append(ConfigurationProblem(source: ConfigurationProblem.commandLine, line: nil, reason: reason))
        }
        if let names = flags.interfaces {
            s.interfaces = names.map { CaptureInterface(name: $0) }
            keys.insert(Key.interfaces)
        }
        if let mode = flags.captureMode {
            s.captureMode = mode
            keys.insert(Key.mode)
        }
        if let ebpf = flags.ebpfFanout { s.engine.ebpfFanout = ebpf }
        if let dir = flags.bpfDirectory { s.engine.bpfDirectory = dir }
        if let workers = flags.workers {
            s.engine.workers = workers
            keys.insert(Key.workers)
        }
        if let text = flags.cpus {
            do throws(PeregrineSystem.SystemError) {
                let list = try CPUList(parsing: text)
                s.cpus = list
                keys.insert(Key.cpus)
                // One worker per listed CPU, as in the file, unless --workers says otherwise.
                if flags.workers == nil, !list.set.cpus.isEmpty {
                    s.engine.workers = list.set.cpus.count
                    keys.insert(Key.workers)
                }
            } catch {
                problem("--cpus: \(error)")
            }
        }
        if let dir = flags.logDirectory {
            s.engine.logDirectory = dir
            keys.insert(Key.logDirectory)
        }
        if let json = flags.useJSON { s.engine.useJSON = json }
        if let ignore = flags.ignoreChecksums { s.engine.ignoreChecksums = ignore }
        if let filter = flags.captureFilter { s.engine.captureFilter = filter }
        if let shunt = flags.shunt { s.engine.shunt.enabled = shunt }
        if let text = flags.shuntBytes {
            do throws(ConfigurationProblems) {
                s.engine.shunt.bytes = try CommandLineOverrides.shuntBytes(text)
            } catch {
                problems.append(contentsOf: error.problems)
            }
        }
        for option in flags.options {
            do {
                try s.engine.apply(option: option)
            } catch {
                problem("\(error)")
            }
            if option.hasPrefix("Log::default_logdir=") { keys.insert(Key.logDirectory) }
        }
        for script in flags.scripts {
            do {
                try s.engine.load(script: script)
            } catch {
                problem("\(error)")
            }
        }
        return (s, problems)
    }
}
