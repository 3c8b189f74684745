// SPDX-License-Identifier: Apache-2.0
import Glibc
import PeregrineSystem
import Testing

@Suite("NetworkInterface")
struct NetworkInterfaceTests {
    @Test("loopback: index 1, loopback hardware type, an MTU, no NUMA node")
    func loopback() throws {
        let lo = try NetworkInterface(named: "lo")
        #expect(lo.name == "lo")
        #expect(lo.index == 1)
        #expect(lo.hardwareType == 772)  // ARPHRD_LOOPBACK
        #expect(lo.mtu >= 1500)
        #expect(lo.numaNode == nil)  // virtual device: no device/numa_node in sysfs
    }

    @Test("agrees with sysfs for every interface of this namespace")
    func matchesSysfs() throws {
        var names: [String] = []
        if let dir = opendir("/sys/class/net") {
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if !name.hasPrefix(".") { names.append(name) }
            }
        }
        #expect(names.contains("lo"))
        for name in names {
            let interface = try NetworkInterface(named: name)
            #expect(Int(interface.index) == Int(try sysfsValue(name, "ifindex")))
            #expect(interface.mtu == Int(try sysfsValue(name, "mtu")))
            #expect(Int(interface.hardwareType) == Int(try sysfsValue(name, "type")))
        }
    }

    @Test("an unknown name throws ENODEV naming if_nametoindex and the interface")
    func unknown() {
        #expect(throws: SystemError.syscall(call: "if_nametoindex", errno: ENODEV, interface: "nosuch0")) {
            try NetworkInterface(named: "nosuch0")
        }
    }

    @Test("a name longer than IFNAMSIZ is refused before any call")
    func tooLong() {
        #expect(throws: SystemError.syscall(call: "if_nametoindex", errno: ENAMETOOLONG, interface: "abcdefghijklmnop")) {
            try NetworkInterface(named: "abcdefghijklmnop")
        }
    }

    @Test("error text names the call, the interface and the reason")
    func errorText() {
        let error = SystemError.syscall(call: "setsockopt(SOL_PACKET, PACKET_RX_RING)", errno: ENOMEM, interface: "eth0")
        #expect(error.description == "setsockopt(SOL_PACKET, PACKET_RX_RING) on eth0 failed: Cannot allocate memory (errno 12)")
    }

    private func sysfsValue(_ name: String, _ attribute: String) throws -> Int {
        let file = try #require(fopen("/sys/class/net/\(name)/\(attribute)", "r"))
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 64)
        _ = fgets(&buffer, 64, file)
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return try #require(Int(text.filter { !$0.isWhitespace }))
    }
}
