// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import PeregrineConfig
import PeregrineEngine
import PeregrineSystem

#if canImport(Glibc)
import Glibc
#endif

/// The command line: Zeek's `-r FILE [-C] [script ...] [Name=value ...]`, so commands users
/// already type for Zeek work (architecture.md, "Command line").
@main
struct Peregrine: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A network security monitor that writes Zeek's logs.",
        discussion: """
            Reads a pcap or pcapng file (-r) or captures live on interfaces (-i, until SIGINT or \
            SIGTERM) and writes Zeek's logs (conn.log, dns.log, http.log, ...) into the current \
            directory, as `zeek -r` / `zeek -i` do (`peregrine check` validates a configuration file, \
            `peregrine sizing --help` plans a sensor). \
            Zeek-style options (Name=value) and the \
            names of the built-in policy scripts may follow, e.g.:

              peregrine -r trace.pcap -C LogAscii::use_json=T Site::local_nets={10.0.0.0/8}
              peregrine -r trace.pcap protocols/conn/vlan-logging
            """,
        version: "0.1.0"
    )

    /// Tools beside the capture, named by the first argument (`peregrine sizing ...`). They are
    /// dispatched here rather than as ArgumentParser subcommands, which the capture command's
    /// trailing `Name=value` arguments would swallow.
    static let tools: [String: any ParsableCommand.Type] = ["sizing": Sizing.self, "check": Check.self, "status": Status.self]

    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let name = arguments.first, let tool = tools[name] {
            tool.main(Array(arguments.dropFirst()))
        } else {
            main(arguments)
        }
    }

    @Option(name: .customShort("r"), help: "Read packets from this pcap or pcapng file.")
    var readFile: String?

    @Option(
        name: .customShort("i"),
        help: "Capture live on these interfaces (comma-separated) until SIGINT or SIGTERM; needs root.")
    var interfaces: String?

    @Flag(name: .customShort("C"), help: "Ignore (do not verify) IP, TCP, UDP and ICMP checksums.")
    var ignoreChecksums = false

    @Flag(name: .long, help: "Write JSON lines instead of Zeek TSV (LogAscii::use_json=T).")
    var json = false

    @Option(name: .customShort("f"), help: "Capture filter in libpcap (tcpdump) syntax.")
    var filter: String?

    @Option(name: .long, help: "Write logs into this directory (Log::default_logdir).")
    var logdir: String?

    @Option(
        name: .long,
        help: "Spread the trace over this many worker threads (flows hashed by address pair; same logs, other row order).")
    var workers: Int?

    @Option(
        name: .long,
        help: "With -i: how each interface's fanout group spreads flows: hash (the kernel's symmetric hash) or ebpf (the project's symmetric hash program from bpf/).")
    var fanout: FanoutChoice = .hash

    @Option(
        name: .long,
        help: """
            With -i, how packets reach the workers: af_packet (TPACKET_V3 rings in a fanout group, the \
            default), af_xdp (AF_XDP sockets fed by bpf/peregrine_xdp.bpf.c: one per receive queue, so \
            --workers must equal the queue count, or all on a single-queue interface), or auto (AF_XDP, \
            else AF_PACKET with the reason on stderr).
            """)
    var capture: CaptureMode?

    @Option(name: .long, help: "Directory of the bpf/ objects (default: $PEREGRINE_BPF_DIR, else beside the binary).")
    var bpfDir: String?

    @Option(
        name: .long,
        help: """
            With -i, pin the workers to these CPUs (e.g. 2-5,8; worker i gets the i-th in ascending \
            order). Default: the CPUs of the interface's NUMA node, CPU 0 left free when enough others \
            remain.
            """)
    var cpus: String?

    @Argument(help: "Zeek-style Name=value options and built-in policy script names.")
    var arguments: [String] = []

    /// Where to read `path` from. A relative path is taken from the working directory, as any tool
    /// does; when nothing is there and the environment's `PWD` names another absolute directory,
    /// it is taken from `PWD` instead. A shell keeps `PWD` equal to the working directory, so this
    /// only applies when a parent started us in another directory without updating `PWD` (Python's
    /// `subprocess.run(cwd=...)`, as `../shared/tools/corpus-score` runs `peregrine -r TRACE` in a
    /// scratch directory with TRACE relative to its own).
    static func resolveInput(_ path: String) -> String {
        guard !path.hasPrefix("/"), access(path, F_OK) != 0,
            let pwd = getenv("PWD").map({ String(cString: $0) }), pwd.hasPrefix("/")
        else { return path }
        let candidate = pwd + "/" + path
        return access(candidate, F_OK) == 0 ? candidate : path
    }

    @Option(name: .long, help: "With -i: serve Prometheus metrics on HOST:PORT (e.g. 127.0.0.1:9911).")
    var metrics: String?

    @Flag(
        name: .long,
        help: "With -i: shunt connections in the kernel (XDP) once TLS or SSH is past its handshake; conn.log keeps their counts.")
    var shunt = false

    @Option(
        name: .customLong("shunt-bytes"),
        help: "With --shunt: also shunt any connection past this many IP bytes (e.g. 10MiB; 0 is off).")
    var shuntBytes: String?

    @Option(
        name: .long,
        help: "Read the sensor's settings from this YAML file (e.g. /etc/peregrine/peregrine.yaml); flags override it.")
    var config: String?

    /// The flags the user typed, for the configuration file's reader (which lets them win).
    func overrides(_ names: [String]?) -> CommandLineOverrides {
        var flags = CommandLineOverrides()
        flags.interfaces = names
        flags.captureMode = capture
        flags.ebpfFanout = fanout == .ebpf ? true : nil
        flags.bpfDirectory = bpfDir
        flags.workers = workers
        flags.cpus = cpus
        flags.logDirectory = logdir
        flags.useJSON = json ? true : nil
        flags.ignoreChecksums = ignoreChecksums ? true : nil
        flags.captureFilter = filter
        flags.shunt = shunt ? true : nil
        flags.shuntBytes = shuntBytes
        flags.options = arguments.filter { $0.contains("=") }
        flags.scripts = arguments.filter { !$0.contains("=") }
        return flags
    }

    /// The engine's configuration from a configuration file's settings; `metrics` (`--metrics`)
    /// wins over `metrics.listen`.
    static func engineConfiguration(_ settings: SensorSettings, metrics: String?) -> Configuration {
        var configuration = settings.engine
        configuration.afPacket = settings.ring
        configuration.disabledLogs = settings.logFiles.disabledLogs
        configuration.captureMode = settings.captureMode
        configuration.afXDP = settings.umem.afXDP
        configuration.metricsAddress = metrics ?? settings.metricsAddress.map { "\($0)" }
        for i in settings.interfaces { if let id = i.fanoutID { configuration.fanoutGroups[i.name] = id } }
        return configuration
    }

    /// The settings of `file` with `flags` applied, or every problem on standard error and exit 1.
    static func settings(file: String, flags: CommandLineOverrides) throws -> SensorSettings {
        switch ConfigurationFile.load(path: file, overrides: flags) {
        case .success(let settings):
            return settings
        case .failure(let problems):
            printError("\(problems)")
            throw ExitCode(1)
        }
    }

    func validate() throws {
        guard (workers ?? 1) >= 1 else { throw ValidationError("--workers must be at least 1") }
        guard fanout == .hash || interfaces != nil else { throw ValidationError("--fanout applies to -i only") }
        guard capture == nil || readFile == nil else { throw ValidationError("--capture applies to live capture (-i)") }
        guard cpus == nil || interfaces != nil else { throw ValidationError("--cpus applies to live capture (-i)") }
        guard metrics == nil || readFile == nil else { throw ValidationError("--metrics applies to live capture (-i)") }
        guard !shunt || readFile == nil else { throw ValidationError("--shunt applies to live capture (-i)") }
        guard shuntBytes == nil || shunt || config != nil else { throw ValidationError("--shunt-bytes needs --shunt") }
    }

    func run() throws {
        var configuration: Configuration
        var names = interfaces?.split(separator: ",").map(String.init)
        do {
            var reloader: LiveRun.Reloader?
            if let config {
                let flags = overrides(names)
                let settings = try Self.settings(file: config, flags: flags)
                configuration = Self.engineConfiguration(settings, metrics: metrics)
                if readFile == nil && names == nil { names = settings.interfaces.map(\.name) }
                let metrics = metrics
                reloader = LiveRun.Reloader {
                    switch ConfigurationFile.load(path: config, overrides: flags) {
                    case .success(let settings):
                        return .success(
                            LiveRun.Reloaded(
                                configuration: Self.engineConfiguration(settings, metrics: metrics),
                                interfaces: settings.interfaces.map(\.name)))
                    case .failure(let problems):
                        return .failure(EngineError("\(problems)"))
                    }
                }
            } else {
                configuration = Configuration()
                for argument in arguments {
                    if argument.contains("=") {
                        try configuration.apply(option: argument)
                    } else {
                        try configuration.load(script: argument)
                    }
                }
                if ignoreChecksums { configuration.ignoreChecksums = true }
                if json { configuration.useJSON = true }
                if let logdir { configuration.logDirectory = logdir }
                configuration.workers = workers ?? 1
                configuration.captureFilter = filter
                configuration.ebpfFanout = fanout == .ebpf
                configuration.bpfDirectory = bpfDir
                configuration.cpuList = cpus
                configuration.metricsAddress = metrics
                configuration.shunt.enabled = shunt
                if let shuntBytes {
                    do {
                        configuration.shunt.bytes = try CommandLineOverrides.shuntBytes(shuntBytes)
                    } catch {
                        throw ValidationError("\(error)")
                    }
                }
                configuration.captureMode = capture ?? .afPacket
            }
            // Checked here, not in validate(), which also runs before a tool such as `sizing`.
            guard (readFile == nil) != (names == nil || names!.isEmpty) else {
                throw ValidationError("give either -r FILE or -i IFACE[,IFACE] (or capture.interfaces in --config)")
            }
            let config = configuration
            let workers = config.workers
            if let names {
                installStopHandlers()
                // Under systemd (`Type=notify`): readiness, watchdog and status; nil otherwise.
                let notifier: SystemdNotifier?
                do {
                    notifier = try SystemdNotifier.fromProcessEnvironment()
                } catch {
                    throw EngineError("NOTIFY_SOCKET: \(error)")
                }
                let summary = try LiveRun(configuration: config).run(
                    interfaces: names, stop: stopRequested, reopen: reopenRequested, notifier: notifier,
                    reloader: reloader)
                // As Zeek reports at exit ("N packets received on interface X, M dropped").
                let cpus = summary.workerCPUs.map { "CPUs " + $0.map(String.init).joined(separator: ",") } ?? "unpinned"
                printError(
                    "peregrine: \(summary.kernelPackets) packets received on \(names.joined(separator: ",")), "
                        + "\(summary.kernelDrops) dropped by the kernel; \(summary.packets) processed by \(workers) "
                        + "worker(s) (\(cpus)); \(summary.connections) connections; "
                        + "\(summary.logRingFullWaits) log ring full waits")
                if let xdp = summary.xdp {
                    printError("peregrine: AF_XDP " + xdp.layouts.joined(separator: "; "))
                    printError(
                        "peregrine: AF_XDP sockets: rx_dropped \(xdp.receiveDropped), rx_ring_full \(xdp.receiveRingFull), "
                            + "fill ring empty \(xdp.fillRingEmpty), invalid descriptors \(xdp.invalidDescriptors), "
                            + "refill waits \(xdp.refillWaits); XDP program: "
                            + xdp.programCounts.map { "\($0.name) \($0.value)" }.joined(separator: ", "))
                }
                if let s = summary.shunt {
                    printError(
                        "peregrine: shunt: \(s.workers.shunted) connections shunted (\(s.workers.refused) refused), "
                            + "\(s.kernelDropped) packets dropped in the kernel and \(s.kernelPassed) passed (SYN/FIN/RST) "
                            + "of \(s.kernelPackets) seen by XDP; \(s.workers.packets) packets and \(s.workers.ipBytes) IP bytes "
                            + "restored into conn.log (\(s.workers.lost) entries lost)")
                }
                if let error = summary.logWriteError {
                    printError("peregrine: \(summary.lostLogRecords) log records could not be written: \(error)")
                    throw ExitCode(1)
                }
                return
            }
            let summary = try OfflineRun(configuration: config).run(path: Self.resolveInput(readFile ?? ""))
            if let error = summary.readError {
                printError("peregrine: \(error)")
                throw ExitCode(1)
            }
        } catch let error as EngineError {
            printError("peregrine: \(error)")
            throw ExitCode(1)
        }
    }
}

extension CaptureMode: ExpressibleByArgument {}

/// `--fanout`: how a live interface's fanout group spreads flows over the workers.
enum FanoutChoice: String, ExpressibleByArgument {
    /// PACKET_FANOUT_HASH: the kernel's flow hash, symmetric (the default).
    case hash
    /// PACKET_FANOUT_EBPF with `bpf/peregrine_fanout.bpf.c`: the project's symmetric flow hash.
    case ebpf
}

/// Set by SIGINT and SIGTERM: the live run drains its rings, flushes every connection and exits.
let stopRequested = StopFlag()

/// Set by SIGHUP: the writer thread closes every log file and starts new ones (external rotation),
/// and with `--config` the live run reads the file again (`LiveRun.Reloader`).
let reopenRequested = ReopenFlag()

/// SIGINT and SIGTERM stop a live run cleanly; SIGHUP reopens its log files and reloads its configuration. Each handler does
/// one atomic operation, which is async-signal-safe; the threads of the run act on it. Both
/// globals are touched first here, so no handler runs their lazy initialisation.
/// The three signals are also unblocked: a parent may have started us with them blocked (Foundation's
/// `Process` passes its thread's signal mask on), and every thread started later inherits the mask.
func installStopHandlers() {
    _ = stopRequested
    _ = reopenRequested
    signal(SIGINT) { _ in stopRequested.stop() }
    signal(SIGTERM) { _ in stopRequested.stop() }
    signal(SIGHUP) { _ in reopenRequested.reopen() }
    var handled = sigset_t()
    sigemptyset(&handled)
    for number in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&handled, number) }
    sigprocmask(SIG_UNBLOCK, &handled, nil)
}

/// Writes one line to standard error (the C `stderr` global is not concurrency-safe in Swift 6).
func printError(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
}
