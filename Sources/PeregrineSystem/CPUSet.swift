// SPDX-License-Identifier: Apache-2.0
import CPeregrineLinux
import Glibc

/// A set of CPU numbers: parsed from the kernel's list format ("0-3,6"), read from a thread's
/// affinity, and applied to the calling thread to pin a worker.
public struct CPUSet: Sendable, Equatable, CustomStringConvertible {
    /// The largest CPU number plus one that a set can hold: glibc's `CPU_SETSIZE`.
    public static let capacity = 1024

    /// The CPUs, ascending and without repeats.
    public let cpus: [Int]

    /// The set of `cpus` (any order, repeats allowed).
    /// - Precondition: every number is in `0..<CPUSet.capacity`.
    public init(_ cpus: some Sequence<Int>) {
        let sorted = Array(Set(cpus)).sorted()
        precondition(sorted.allSatisfy { (0..<Self.capacity).contains($0) }, "CPU number out of range")
        self.cpus = sorted
    }

    /// Parses the list format of cpuset(7) and sysfs (`/sys/devices/system/cpu/online`): comma-separated
    /// numbers and inclusive ranges, such as "0-3,6"; surrounding whitespace (a trailing newline) is
    /// ignored, an empty list is an empty set.
    /// - Throws: `SystemError.invalidValue` naming the list and what is wrong with it.
    public init(parsing list: String) throws(SystemError) {
        let text = list.trimmingWhitespace()
        var cpus: [Int] = []
        if !text.isEmpty {
            for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count == 1 || bounds.count == 2,
                    let low = Self.cpuNumber(bounds[0]), let high = Self.cpuNumber(bounds[bounds.count - 1])
                else {
                    throw .invalidValue(what: "CPU list", value: list, reason: "'\(item)' is not N or N-M")
                }
                guard low <= high else {
                    throw .invalidValue(what: "CPU list", value: list, reason: "range '\(item)' runs backwards")
                }
                guard high < Self.capacity else {
                    throw .invalidValue(
                        what: "CPU list", value: list, reason: "CPU \(high) is beyond \(Self.capacity - 1)")
                }
                cpus.append(contentsOf: low...high)
            }
        }
        self.init(cpus)
    }

    /// The canonical list form, ranges collapsed: "0-3,6".
    public var description: String {
        var parts: [String] = []
        var index = 0
        while index < cpus.count {
            var end = index
            while end + 1 < cpus.count, cpus[end + 1] == cpus[end] + 1 { end += 1 }
            parts.append(end == index ? "\(cpus[index])" : "\(cpus[index])-\(cpus[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    /// The CPUs the kernel has online, from `/sys/devices/system/cpu/online`.
    /// - Throws: `SystemError.syscall` when the file cannot be read, `.invalidValue` when it does not parse.
    public static func online() throws(SystemError) -> CPUSet {
        try reading("/sys/devices/system/cpu/online")
    }

    /// The CPUs of NUMA node `node`, from `/sys/devices/system/node/node<N>/cpulist` (online or not).
    /// - Throws: `SystemError.syscall` when the node does not exist, `.invalidValue` when the list does
    ///   not parse.
    public static func ofNUMANode(_ node: Int) throws(SystemError) -> CPUSet {
        try reading("/sys/devices/system/node/node\(node)/cpulist")
    }

    /// The CPUs in both sets.
    public func intersection(_ other: CPUSet) -> CPUSet { CPUSet(Set(cpus).intersection(other.cpus)) }

    /// The CPUs of this set that `other` lacks.
    public func subtracting(_ other: CPUSet) -> CPUSet { CPUSet(Set(cpus).subtracting(other.cpus)) }

    /// The set a sysfs file lists.
    private static func reading(_ path: String) throws(SystemError) -> CPUSet {
        guard let file = fopen(path, "r") else { throw .syscall(call: "fopen(\(path))", errno: errno, interface: nil) }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 4096)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else {
            throw .syscall(call: "fgets(\(path))", errno: errno, interface: nil)
        }
        return try CPUSet(parsing: String(nulTerminated: buffer))
    }

    /// The calling thread's CPU affinity. The corresponding C call is `sched_getaffinity(0)`.
    public static func currentThreadAffinity() throws(SystemError) -> CPUSet {
        var mask = [UInt64](repeating: 0, count: capacity / 64)
        _ = try Syscall.run("sched_getaffinity", interface: nil) {
            mask.withUnsafeMutableBytes { CPeregrineLinux_sched_getaffinity(0, $0.count, $0.baseAddress) }
        }
        var cpus: [Int] = []
        for (word, bits) in mask.enumerated() where bits != 0 {
            for bit in 0..<64 where bits & (1 << UInt64(bit)) != 0 { cpus.append(word * 64 + bit) }
        }
        return CPUSet(cpus)
    }

    /// Restricts the calling thread to these CPUs (a worker pins itself to one).
    /// The corresponding C call is `sched_setaffinity(0)`.
    /// - Throws: `SystemError.syscall` (`EINVAL` when none of the CPUs is online or allowed).
    public func pinCurrentThread() throws(SystemError) {
        var mask = [UInt64](repeating: 0, count: Self.capacity / 64)
        for cpu in cpus { mask[cpu / 64] |= 1 << UInt64(cpu % 64) }
        _ = try Syscall.run("sched_setaffinity(\(description))", interface: nil) {
            mask.withUnsafeBytes { CPeregrineLinux_sched_setaffinity(0, $0.count, $0.baseAddress) }
        }
    }

    /// Names the calling thread (`peregrine-w0`), as `top -H`, `ps -L` and `/proc/PID/task/TID/comm`
    /// show it; longer names are cut to Linux's 15 bytes. The corresponding C call is
    /// `pthread_setname_np(pthread_self())`.
    public static func nameCurrentThread(_ name: String) {
        // The only error is ERANGE for a name over 15 bytes, which the cut rules out.
        _ = String(decoding: name.utf8.prefix(15), as: UTF8.self).withCString { CPeregrineLinux_setThreadName($0) }
    }

    /// A CPU number: decimal digits only (no sign, no spaces inside the list).
    private static func cpuNumber(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), text.count <= 7 else { return nil }
        return Int(text)
    }
}
