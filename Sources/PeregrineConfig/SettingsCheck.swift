// SPDX-License-Identifier: Apache-2.0
import Glibc
import PeregrineCapture
import PeregrineEngine
import PeregrineLogs
import PeregrineSystem

/// The checks of combined settings (file and command line) against each other and the machine:
/// workers against CPUs, CPUs against those online, ring and UMEM memory against physical memory,
/// the log directory against the file system. Each problem names where its value came from.
struct SettingsCheck {
    let settings: SensorSettings
    let system: SystemFacts
    /// Where a dotted key's value was said: the file and its line, or the command line.
    let locate: (String) -> (source: String, line: Int?)
    private(set) var problems: [ConfigurationProblem] = []

    init(settings: SensorSettings, system: SystemFacts, locate: @escaping (String) -> (source: String, line: Int?)) {
        self.settings = settings
        self.system = system
        self.locate = locate
    }

    /// Runs every check.
    mutating func run() -> [ConfigurationProblem] {
        checkWorkersAndCPUs()
        checkInterfaces()
        if settings.captureMode != .afXDP { checkRing() }
        if settings.captureMode != .afPacket { checkUMEM() }
        checkLogFiles()
        return problems
    }

    private mutating func problem(_ key: String, _ reason: String) {
        let (source, line) = locate(key)
        let name = source == ConfigurationProblem.commandLine ? Key.flags[key] ?? key : key
        problems.append(ConfigurationProblem(source: source, line: line, reason: "\(name): \(reason)"))
    }

    /// Whether `key` was given in the file or on the command line (not left at its default).
    private func said(_ key: String) -> Bool {
        let (source, line) = locate(key)
        return line != nil || source == ConfigurationProblem.commandLine
    }

    /// The key a problem about `key` is blamed on: `key` itself when it was said, else `fallback`.
    private func said(_ key: String, else fallback: String) -> String { said(key) ? key : fallback }

    private var interfaceCount: Int { max(1, settings.interfaces.count) }

    private mutating func checkWorkersAndCPUs() {
        let workers = settings.engine.workers
        guard workers >= 1 else {
            problem(Key.workers, "at least 1 worker is needed, got \(workers)")
            return
        }
        let online = system.onlineCPUs
        if let list = settings.cpus {
            if list.set.cpus.isEmpty { problem(Key.cpus, "'\(list.text)' names no CPU") }
            if let online {
                let missing = list.set.cpus.filter { !online.cpus.contains($0) }
                if !missing.isEmpty {
                    problem(
                        Key.cpus,
                        "CPU list '\(list.text)' names \(CPUSet(missing)), which \(missing.count == 1 ? "is" : "are") "
                            + "not online (online: \(online))"
                    )
                }
            }
            if !list.set.cpus.isEmpty, workers > list.set.cpus.count {
                problem(
                    said(Key.workers, else: Key.cpus),
                    "\(workers) workers but the CPU list '\(list.text)' names only \(list.set.cpus.count) CPUs "
                        + "(one worker per CPU)"
                )
            }
        } else if let online, workers > online.cpus.count {
            problem(Key.workers, "\(workers) workers but only \(online.cpus.count) CPUs are online (\(online))")
        }
    }

    private mutating func checkInterfaces() {
        var seen = Set<String>(), ids = [UInt16: String]()
        for interface in settings.interfaces {
            let name = interface.name
            // IFNAMSIZ is 16 with the terminating NUL (linux/if.h); '/' and white space are refused
            // by dev_valid_name().
            if name.isEmpty || name.utf8.count > 15 || name.contains(where: { $0 == "/" || $0.isWhitespace }) {
                problem(Key.interfaces, "'\(name)' is not a valid interface name")
            }
            if !seen.insert(name).inserted { problem(Key.interfaces, "interface '\(name)' is listed twice") }
            if let id = interface.fanoutID {
                if let other = ids[id] {
                    // One fanout group cannot span two interfaces (AFPacketConfiguration.fanoutGroup).
                    problem(Key.interfaces, "fanout_id \(id) is given to both '\(other)' and '\(name)'")
                } else {
                    ids[id] = name
                }
            }
        }
    }

    private mutating func checkRing() {
        let ring = settings.ring
        do throws(AFPacketError) {
            try ring.validate()
        } catch {
            if case .invalidConfiguration(let reason) = error {
                problem(Key.afPacket, reason)
            } else {
                problem(Key.afPacket, "\(error)")
            }
            return
        }
        checkMemory(
            key: Key.afPacket,
            perSocket: ring.blockSize.multipliedReportingOverflow(by: ring.blockCount),
            what: "TPACKET_V3 rings (block_size × block_count)"
        )
    }

    private mutating func checkUMEM() {
        let umem = settings.umem
        // Aligned-mode chunks: a power of two from 2048 to the page size (xdp_umem_reg() in
        // net/xdp/xdp_umem.c); ring sizes are powers of two (xskq_create()).
        if umem.frameSize < 2048 || umem.frameSize > system.pageSize || umem.frameSize & (umem.frameSize - 1) != 0 {
            problem(
                Key.afXDP,
                "frame_size \(umem.frameSize) must be a power of two from 2048 to the page size \(system.pageSize)"
            )
        }
        for (name, size) in [
            ("fill_ring_size", umem.fillRingSize), ("completion_ring_size", umem.completionRingSize),
            ("rx_ring_size", umem.rxRingSize),
        ] where size < 1 || size & (size - 1) != 0 {
            problem(Key.afXDP, "\(name) \(size) must be a power of two")
        }
        if umem.fillRingSize < umem.frameCount {
            problem(
                Key.afXDP,
                "fill_ring_size \(umem.fillRingSize) is smaller than frame_count \(umem.frameCount): every frame must "
                    + "fit on the fill ring at once")
        }
        checkMemory(
            key: Key.afXDP,
            perSocket: umem.frameSize.multipliedReportingOverflow(by: umem.frameCount),
            what: "AF_XDP UMEMs (frame_size × frame_count)"
        )
    }

    /// One socket per worker per interface: refuses rings that need more than the machine's memory.
    private mutating func checkMemory(key: String, perSocket: (partialValue: Int, overflow: Bool), what: String) {
        guard let memory = system.memoryBytes else { return }
        let sockets = settings.engine.workers * interfaceCount
        let total: (partialValue: Int, overflow: Bool) =
            perSocket.overflow ? (0, true) : perSocket.partialValue.multipliedReportingOverflow(by: sockets)
        guard total.overflow || total.partialValue > memory else { return }
        let need = total.overflow ? "more than 8 EiB" : Self.bytes(total.partialValue)
        problem(
            key,
            "\(what) need \(need) for \(Self.count(settings.engine.workers, "worker")) × "
                + "\(Self.count(interfaceCount, "interface")), more than "
                + "the \(Self.bytes(memory)) of physical memory"
        )
    }

    private mutating func checkLogFiles() {
        let dir = settings.engine.logDirectory
        if let reason = Self.unwritable(directory: dir) { problem(Key.logDirectory, reason) }
        // Said, not defaulted: the engine's default compression (gzip) is no mistake without rotation.
        let engine = settings.engine
        if engine.rotationInterval == nil {
            if engine.logCompression != .none, said(Key.compression) {
                problem(
                    Key.compression,
                    "\(engine.logCompression.rawValue) compresses rotated files; set logs.rotation_interval"
                )
            }
            if engine.logRetentionAge != nil || engine.logRetentionBytes != nil, said(Key.retention) {
                problem(Key.retention, "retention deletes rotated files; set logs.rotation_interval")
            }
        }
    }

    /// Why `directory` cannot hold the logs: it, or the nearest ancestor that exists (where it
    /// would be created), is not a directory or not writable (`access(W_OK)`, which also refuses a
    /// read-only file system for root). `nil` when it can.
    static func unwritable(directory: String) -> String? {
        var path = directory
        while true {
            var info = stat()
            if stat(path, &info) == 0 {
                // The directory itself, or the ancestor it would be created in.
                let subject = path == directory ? "'\(directory)'" : "'\(directory)' cannot be created: '\(path)'"
                guard info.st_mode & S_IFMT == S_IFDIR else { return "\(subject) is not a directory" }
                guard access(path, W_OK) == 0 else {
                    return "\(subject) is not writable (\(String(cString: strerror(errno))))"
                }
                return nil
            }
            let code = errno
            // ENOTDIR: a component is a file; walking up finds it and says so.
            guard code == ENOENT || code == ENOTDIR else {
                return "'\(directory)': cannot inspect '\(path)' (\(String(cString: strerror(code))))"
            }
            guard let slash = path.lastIndex(of: "/") else {
                path = "."
                continue
            }
            path = slash == path.startIndex ? "/" : String(path[..<slash])
        }
    }

    /// `1 worker`, `4 workers`.
    static func count(_ n: Int, _ noun: String) -> String { n == 1 ? "1 \(noun)" : "\(n) \(noun)s" }

    /// `128 MiB`, `1.5 GiB`: binary units, one decimal where needed.
    static func bytes(_ n: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(n), unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(n) bytes" }
        let tenths = Int((value * 10).rounded())
        return tenths % 10 == 0 ? "\(tenths / 10) \(units[unit])" : "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}
