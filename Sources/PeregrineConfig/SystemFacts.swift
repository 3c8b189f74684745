// SPDX-License-Identifier: Apache-2.0
import Glibc
import PeregrineSystem

/// What the machine offers, against which a configuration is checked: its online CPUs, its memory
/// and its page size. Tests pass their own to make a check independent of the machine.
public struct SystemFacts: Sendable {
    /// CPUs the kernel has online; `nil` when they could not be read (CPU checks are then skipped).
    public var onlineCPUs: CPUSet?
    /// Physical memory in bytes (`MemTotal` of `/proc/meminfo`); `nil` when unknown (memory checks are
    /// then skipped).
    public var memoryBytes: Int?
    /// The page size, which ring blocks must be a multiple of.
    public var pageSize: Int

    /// - Parameters:
    ///   - onlineCPUs: the online CPUs, `nil` if unknown.
    ///   - memoryBytes: physical memory, `nil` if unknown.
    ///   - pageSize: the page size.
    public init(onlineCPUs: CPUSet?, memoryBytes: Int?, pageSize: Int) {
        self.onlineCPUs = onlineCPUs
        self.memoryBytes = memoryBytes
        self.pageSize = pageSize
    }

    /// This machine's facts, read from `/sys/devices/system/cpu/online`, `/proc/meminfo` and `sysconf`.
    public static func current() -> SystemFacts {
        SystemFacts(
            onlineCPUs: try? CPUSet.online(),
            memoryBytes: (try? TextFile.read("/proc/meminfo")).flatMap(memTotal(meminfo:)),
            pageSize: Int(sysconf(Int32(_SC_PAGESIZE)))
        )
    }

    /// The `MemTotal:` line of `/proc/meminfo` in bytes (the kernel writes it in KiB: `MemTotal: 16314124 kB`).
    static func memTotal(meminfo: String) -> Int? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let kib = Int(fields[1]) else { return nil }
            return kib * 1024
        }
        return nil
    }
}

/// Reads small text files whole (the configuration, `/proc/meminfo`) without Foundation.
enum TextFile {
    /// The file's bytes as UTF-8 (invalid sequences repaired).
    /// - Throws: `SystemError.syscall` naming the call and `errno`.
    static func read(_ path: String) throws(SystemError) -> String {
        guard let file = fopen(path, "r") else { throw .syscall(call: "fopen(\(path))", errno: errno, interface: nil) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            bytes.append(contentsOf: chunk[..<n])
            if n < chunk.count {
                if ferror(file) != 0 { throw .syscall(call: "fread(\(path))", errno: errno, interface: nil) }
                break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
