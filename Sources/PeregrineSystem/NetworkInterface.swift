// SPDX-License-Identifier: Apache-2.0
import CPeregrineLinux
import Glibc

/// A network interface as the capture setup needs it: index, MTU, hardware type and NUMA node.
///
/// Index, MTU and hardware type come from the kernel through calls that follow the calling thread's
/// network namespace. The NUMA node comes from sysfs, which shows the namespace that mounted /sys
/// (normally the initial one), and exists only for devices on a bus: virtual devices (veth, lo) have none.
public struct NetworkInterface: Sendable, Equatable {
    /// The interface name (`eth0`).
    public let name: String
    /// The kernel's interface index.
    public let index: UInt32
    /// The MTU in bytes.
    public let mtu: Int
    /// The ARPHRD_* hardware type (1 = Ethernet, 772 = loopback).
    public let hardwareType: UInt16
    /// The NUMA node of the device, or `nil` when the kernel does not know one (virtual devices, or
    /// `numa_node` = -1 on single-node machines).
    public let numaNode: Int?

    /// Looks `name` up.
    ///
    /// The corresponding C calls are `if_nametoindex`, `ioctl(SIOCGIFMTU)`, `ioctl(SIOCGIFHWADDR)` and a
    /// read of `/sys/class/net/<name>/device/numa_node`.
    /// - Throws: `SystemError.syscall` naming the call and the interface (`ENODEV` for an unknown name).
    public init(named name: String) throws(SystemError) {
        guard name.utf8.count < Int(IFNAMSIZ) else {
            throw .syscall(call: "if_nametoindex", errno: ENAMETOOLONG, interface: name)
        }
        let index = if_nametoindex(name)
        guard index != 0 else {
            throw .syscall(call: "if_nametoindex", errno: errno, interface: name)
        }
        let probe = try Syscall.run("socket(AF_UNIX, SOCK_DGRAM)", interface: name) {
            socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        }
        defer { close(probe) }

        var request = Self.request(for: name)
        _ = try Syscall.run("ioctl(SIOCGIFMTU)", interface: name) {
            CPeregrineLinux_ioctl(probe, UInt(SIOCGIFMTU), &request)
        }
        let mtu = Int(request.ifr_ifru.ifru_mtu)
        request = Self.request(for: name)
        _ = try Syscall.run("ioctl(SIOCGIFHWADDR)", interface: name) {
            CPeregrineLinux_ioctl(probe, UInt(SIOCGIFHWADDR), &request)
        }
        self.name = name
        self.index = index
        self.mtu = mtu
        self.hardwareType = request.ifr_ifru.ifru_hwaddr.sa_family
        self.numaNode = Self.readNUMANode(name)
    }

    /// An `ifreq` with `ifr_name` set (`name` is shorter than IFNAMSIZ, checked by the caller).
    private static func request(for name: String) -> ifreq {
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { raw in
            for (offset, byte) in name.utf8.enumerated() { raw[offset] = byte }
        }
        return request
    }

    /// The number of receive queues the device uses now: its rx-only plus combined channels.
    ///
    /// Asked of the driver (not sysfs, which shows the namespace that mounted /sys), so it follows the
    /// calling thread's network namespace. A driver without channel reporting (`EOPNOTSUPP`: loopback,
    /// some virtual devices) has one queue. The corresponding C call is
    /// `ioctl(SIOCETHTOOL, ETHTOOL_GCHANNELS)`.
    /// - Throws: `SystemError.syscall` naming the call and the interface.
    public func receiveQueueCount() throws(SystemError) -> Int {
        let probe = try Syscall.run("socket(AF_UNIX, SOCK_DGRAM)", interface: name) {
            socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        }
        defer { close(probe) }
        var channels = ethtool_channels()
        channels.cmd = UInt32(ETHTOOL_GCHANNELS)
        var request = Self.request(for: name)
        let result = withUnsafeMutablePointer(to: &channels) { pointer in
            request.ifr_ifru.ifru_data = UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: CChar.self)
            return CPeregrineLinux_ioctl(probe, UInt(SIOCETHTOOL), &request)
        }
        if result != 0 {
            let code = errno
            if code == EOPNOTSUPP { return 1 }
            throw .syscall(call: "ioctl(SIOCETHTOOL, ETHTOOL_GCHANNELS)", errno: code, interface: name)
        }
        return max(1, Int(channels.rx_count) + Int(channels.combined_count))
    }

    /// The value of `/sys/class/net/<name>/device/numa_node`, or `nil` when absent or negative.
    private static func readNUMANode(_ name: String) -> Int? {
        guard let file = fopen("/sys/class/net/\(name)/device/numa_node", "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 32)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        let text = String(nulTerminated: buffer).trimmingWhitespace()
        guard let node = Int(text), node >= 0 else { return nil }
        return node
    }
}

extension String {
    /// The UTF-8 text of a C buffer up to its first NUL (or all of it when there is none).
    init(nulTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The string without leading and trailing spaces, tabs and newlines (sysfs values end in "\n").
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
