// SPDX-License-Identifier: Apache-2.0
import PeregrineCapture
import PeregrineCore
import PeregrineLogs
import PeregrinePolicy

/// Everything a run needs to know, resolved once at start (style.md §4.7: no lookups per packet).
public struct Configuration: Sendable {
    /// Write JSON lines instead of Zeek TSV (`LogAscii::use_json`).
    public var useJSON = false
    /// Skip IP/TCP/UDP/ICMP checksum verification (`-C`, `ignore_checksums`).
    public var ignoreChecksums = false
    /// Where logs go (`Log::default_logdir`); the current directory by default.
    public var logDirectory = "."
    /// `Site::local_nets`.
    public var localNetworks: [IPSubnet] = []
    /// `Site::private_address_space_is_local`.
    public var privateAddressSpaceIsLocal = true
    /// Add conn.log's `community_id` column (Zeek's `policy/protocols/conn/community-id-logging`).
    public var communityID = false
    /// `CommunityID::seed`.
    public var communityIDSeed: UInt16 = 0
    /// Add conn.log's `vlan` and `inner_vlan` columns (Zeek's `policy/protocols/conn/vlan-logging`).
    public var vlanLogging = false
    /// A capture filter in libpcap syntax.
    public var captureFilter: String? = nil
    /// Live: spread packets with the project's own symmetric hash program (`bpf/peregrine_fanout.bpf.c`,
    /// PACKET_FANOUT_EBPF) instead of the kernel's PACKET_FANOUT_HASH (`--fanout ebpf`).
    public var ebpfFanout = false
    /// Where the `bpf/` objects are (`--bpf-dir`); `nil`: `PEREGRINE_BPF_DIR`, else beside the binary.
    public var bpfDirectory: String? = nil
    /// Most connections one worker tracks at once; beyond it the longest-idle one is evicted.
    /// Slots are reserved, not touched, at start: memory grows with the connections actually held.
    public var maxConnections = 262_144
    /// Most UDP connections under the DNS analyzer at once (its preallocated pool); more go
    /// unanalysed and are counted. A DNS connection lives at most a few `dns_session_timeout`
    /// periods, so a quarter of the flow table is ample.
    public var maxDNSConnections = 65_536
    /// Attach no application analyzer to any connection (Zeek's `Analyzer::disable_all`): conn.log,
    /// weird.log and tunnel.log only, as the conn-only benchmark runs.
    public var disableAllAnalyzers = false
    /// Connections the HTTP analyzer can follow at once (its pool); more go unanalysed and are
    /// counted (`analyzers.http.pool_full`). The pool is built at start (two parsers and a
    /// policy state per slot, about 600 bytes: 65,536 slots cost 29 MB more peak RSS than 16,384
    /// on real-mix.pcap), so this sets the worker's HTTP memory.
    public var maxHTTPConnections = 16_384
    /// Connections the SSL analyzer can follow at once (its pool); more go unanalysed and are
    /// counted (`analyzers.ssl.pool_full`).
    public var maxSSLConnections = 16_384
    /// Connections the SSH analyzer can follow at once (its pool); more go unanalysed and are
    /// counted (`analyzers.ssh.pool_full`).
    public var maxSSHConnections = 4_096
    /// FTP control connections followed at once (the FTP analyzer's pool); more go unanalysed
    /// and are counted (`analyzers.ftp.pool_full`).
    public var maxFTPConnections = 4_096
    /// SMTP connections followed at once (the SMTP analyzer's pool); more go unanalysed and
    /// are counted (`analyzers.smtp.pool_full`).
    public var maxSMTPConnections = 16_384
    /// TCP connections content probing can follow at once (Zeek's PIA buffers, `dpd_buffer_size`
    /// bytes each); more go unprobed and are counted (`dpd.pool_full`). A probe lasts until a
    /// signature decides or its first kilobyte is seen, so few connections hold one at a time.
    public var maxProbingConnections = 16_384
    /// Seed for uids and hash tables; `nil` draws one from the system (tests fix it).
    public var seed: UInt64? = nil
    /// Offline: worker threads the reader spreads the trace over (`--workers N`); 1 processes it
    /// on the reading thread.
    public var workers = 1
    /// Live: the CPUs the workers are pinned to, in the list format of cpuset(7) ("2-5,8"; worker
    /// `i` gets the `i`-th in ascending order); `nil` picks the capture interface's NUMA node
    /// (`--cpus`).
    public var cpuList: String? = nil
    /// Zeek's session timeouts (`init-bare.zeek`).
    public var timeouts = Timeouts()
    /// Write stats.log (Zeek's `policy/misc/stats`; off as in a bare `zeek -r`, on with that script).
    public var statsLogging = false
    /// `Stats::report_interval` (5 min).
    public var statsInterval = Interval.seconds(300)
    /// Write capture_loss.log (Zeek's `policy/misc/capture-loss`; off as in a bare `zeek -r`).
    public var captureLossLogging = false
    /// `CaptureLoss::watch_interval` (15 min): between measurements after the first.
    public var captureLossInterval = Interval.seconds(900)
    /// `CaptureLoss::initial_watch_interval` (1 min): from the start to the first measurement.
    public var captureLossInitialInterval = Interval.seconds(60)
    /// Live: the shape of each worker's TPACKET_V3 ring (block size and count, frame size, block
    /// timeout); the filter and fanout mode are set from the fields above.
    public var afPacket = AFPacketConfiguration()
    /// Live: how packets reach the workers (`--capture`, `capture.mode`).
    public var captureMode = CaptureMode.afPacket
    /// Live, AF_XDP: each socket's UMEM and rings (`capture.af_xdp` in peregrine.yaml).
    public var afXDP = AFXDPConfiguration()
    /// Live: the fanout group id of each interface by name (zeekctl's `af_packet_fanout_id`); an
    /// interface not named gets one derived from its index.
    public var fanoutGroups: [String: UInt16] = [:]
    /// Live: where the Prometheus endpoint listens (`HOST:PORT`, `--metrics`); `nil` for none.
    public var metricsAddress: String? = nil
    /// Log streams not written (by path: `dns`, `files`, ...); their records are dropped before
    /// formatting (`LogWriterSet.disabledPaths`).
    public var disabledLogs: Set<String> = []
    /// Built-in rotation (`Log::default_rotation_interval`; `nil`, Zeek's 0, is off): logs are
    /// written in `<logDirectory>/current/` and moved at every multiple of the interval (wall clock)
    /// into `<logDirectory>/YYYY-MM-DD/` with ZeekControl's names, compressed (`LogRotation`).
    public var rotationInterval: Interval? = nil
    /// How rotated logs are compressed.
    public var logCompression = LogCompression.gzip
    /// Rotated logs older than this are removed (`nil`: kept).
    public var logRetentionAge: Interval? = nil
    /// The oldest rotated logs are removed while the archive holds more bytes than this (`nil`: no limit).
    public var logRetentionBytes: Int64? = nil
    /// Live: which connections the XDP program drops and counts in the kernel (`--shunt`, `shunt:`).
    public var shunt = ShuntPolicy()

    public init() {}

    /// The inactivity and removal delays of Zeek's defaults.
    public struct Timeouts: Sendable {
        /// `tcp_inactivity_timeout` (5 min).
        public var tcpInactivity = Interval.seconds(300)
        /// `udp_inactivity_timeout` (1 min).
        public var udpInactivity = Interval.seconds(60)
        /// `icmp_inactivity_timeout` (1 min).
        public var icmpInactivity = Interval.seconds(60)
        /// `tcp_close_delay` / `tcp_reset_delay` (5 s): how long a closed connection stays.
        public var closeDelay = Interval.seconds(5)
        public init() {}
    }

    /// Applies one Zeek-style `Name=value` option from the command line, as `zeek` accepts them.
    /// - Throws: `EngineError` naming the option and what is wrong with it.
    public mutating func apply(option text: String) throws {
        guard let eq = text.firstIndex(of: "=") else { throw EngineError("option '\(text)': expected Name=value") }
        let name = String(text[..<eq]).trimmingSpaces
        let value = String(text[text.index(after: eq)...]).trimmingSpaces
        func bool() throws -> Bool {
            switch value {
            case "T", "true": return true
            case "F", "false": return false
            default: throw EngineError("option \(name): expected T or F, got '\(value)'")
            }
        }
        switch name {
        case "LogAscii::use_json": useJSON = try bool()
        case "ignore_checksums": ignoreChecksums = try bool()
        case "Analyzer::disable_all": disableAllAnalyzers = try bool()
        case "Log::default_logdir":
            guard !value.isEmpty else { throw EngineError("option \(name): empty directory") }
            logDirectory = value.unquoted
        case "Site::local_nets": localNetworks = try Self.parseSubnets(value, option: name)
        case "Site::private_address_space_is_local": privateAddressSpaceIsLocal = try bool()
        case "CommunityID::seed":
            guard let seed = UInt16(value) else { throw EngineError("option \(name): expected 0-65535, got '\(value)'") }
            communityIDSeed = seed
        case "tcp_inactivity_timeout": timeouts.tcpInactivity = try Self.parseInterval(value, option: name)
        case "udp_inactivity_timeout": timeouts.udpInactivity = try Self.parseInterval(value, option: name)
        case "icmp_inactivity_timeout": timeouts.icmpInactivity = try Self.parseInterval(value, option: name)
        case "Stats::report_interval": statsInterval = try Self.parsePositiveInterval(value, option: name)
        case "Log::default_rotation_interval":
            let interval = try Self.parseInterval(value, option: name)
            rotationInterval = interval.nanoseconds > 0 ? interval : nil
        case "CaptureLoss::watch_interval": captureLossInterval = try Self.parsePositiveInterval(value, option: name)
        case "CaptureLoss::initial_watch_interval":
            captureLossInitialInterval = try Self.parsePositiveInterval(value, option: name)
        default: throw EngineError("option \(name): not a known option")
        }
    }

    /// Turns on what one of Zeek's policy scripts does, named as on Zeek's command line.
    /// - Throws: `EngineError` for a script Peregrine does not provide.
    public mutating func load(script name: String) throws {
        var n = name
        if n.hasSuffix(".zeek") { n.removeLast(5) }
        if n.hasPrefix("policy/") { n.removeFirst(7) }
        switch n {
        case "protocols/conn/vlan-logging": vlanLogging = true
        case "protocols/conn/community-id-logging": communityID = true
        case "tuning/json-logs": useJSON = true
        case "misc/stats": statsLogging = true
        case "misc/capture-loss": captureLossLogging = true
        default:
            throw EngineError("script '\(name)': Zeek scripts are not supported yet; built-in policy scripts: "
                + "protocols/conn/vlan-logging, protocols/conn/community-id-logging, tuning/json-logs, misc/stats, "
                + "misc/capture-loss")
        }
    }

    /// Parses Zeek's set-of-subnet literal `{10.0.0.0/8, 192.168.0.0/16}` (braces optional).
    package static func parseSubnets(_ value: String, option: String) throws -> [IPSubnet] {
        var body = Substring(value)
        if body.first == "{" && body.last == "}" { body = body.dropFirst().dropLast() }
        return try body.split(separator: ",").map { part in
            let text = String(part).trimmingSpaces
            guard let net = IPSubnet(text) else { throw EngineError("option \(option): '\(text)' is not a subnet") }
            return net
        }
    }

    /// An interval that must be above zero (a report period).
    static func parsePositiveInterval(_ value: String, option: String) throws -> Interval {
        let i = try parseInterval(value, option: option)
        guard i > .zero else { throw EngineError("option \(option): the interval must be above zero, got '\(value)'") }
        return i
    }

    /// Parses `300`, `300.0`, `5 min`, `30secs`, `1hr` into an interval.
    package static func parseInterval(_ value: String, option: String) throws -> Interval {
        let digits = value.prefix { $0.isNumber || $0 == "." }
        let unit = value.dropFirst(digits.count).trimmingSpaces
        guard let number = Double(digits) else { throw EngineError("option \(option): '\(value)' is not an interval") }
        let scale: Double
        switch unit {
        case "", "sec", "secs": scale = 1
        case "msec", "msecs": scale = 0.001
        case "min", "mins": scale = 60
        case "hr", "hrs": scale = 3600
        case "day", "days": scale = 86400
        default: throw EngineError("option \(option): unknown time unit '\(unit)'")
        }
        // Int64 nanoseconds reach about 292 years; a larger value would trap in the conversion.
        let nanoseconds = number * scale * 1e9
        guard nanoseconds.isFinite, nanoseconds < 9.2e18 else {
            throw EngineError("option \(option): '\(value)' is longer than 292 years")
        }
        return Interval(nanoseconds: Int64(nanoseconds))
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }

    fileprivate var unquoted: String {
        if count >= 2, first == "\"", last == "\"" { return String(dropFirst().dropLast()) }
        return String(self)
    }
}

/// How packets reach the live workers (`--capture`, `capture.mode`).
public enum CaptureMode: String, Sendable, CaseIterable {
    /// TPACKET_V3 rings in a fanout group per interface.
    case afPacket = "af_packet"
    /// AF_XDP sockets fed by `bpf/peregrine_xdp.bpf.c`: one per receive queue when the interface has
    /// as many queues as workers, all on queue 0 (the program picks `hash % workers`) when it has one.
    case afXDP = "af_xdp"
    /// AF_XDP when every interface allows it, else AF_PACKET, saying why on standard error.
    case auto
}
