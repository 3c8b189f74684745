// SPDX-License-Identifier: Apache-2.0
import Glibc
import PeregrineSystem
import Testing

@Suite("CPUSet")
struct CPUSetTests {
    @Test(
        "parses the kernel's list format",
        arguments: [
            ("0", [0]),
            ("0-3,6", [0, 1, 2, 3, 6]),
            ("6,0-3", [0, 1, 2, 3, 6]),
            ("2-2", [2]),
            ("1,1,0-1", [0, 1]),
            ("0-1\n", [0, 1]),
            ("", []),
            ("1023", [1023]),
        ])
    func parses(list: String, cpus: [Int]) throws {
        #expect(try CPUSet(parsing: list).cpus == cpus)
    }

    @Test("rejects malformed lists", arguments: ["a", "1-", "-1", "3-1", "1,,2", "1-2-3", "1024", "0-99999999", " 1 , 2", "+1"])
    func rejects(list: String) {
        #expect(throws: SystemError.self) { try CPUSet(parsing: list) }
    }

    @Test("the error names the list and the bad item")
    func errorText() {
        #expect(throws: SystemError.invalidValue(what: "CPU list", value: "0-2,x", reason: "'x' is not N or N-M")) {
            try CPUSet(parsing: "0-2,x")
        }
    }

    @Test("prints the canonical list", arguments: [("0-3,6", "0-3,6"), ("3,1,2,7,8,10", "1-3,7-8,10"), ("", ""), ("5", "5")])
    func description(list: String, canonical: String) throws {
        #expect(try CPUSet(parsing: list).description == canonical)
    }

    @Test("online CPUs include the ones this thread may run on")
    func online() throws {
        let online = try CPUSet.online()
        let allowed = try CPUSet.currentThreadAffinity()
        #expect(!allowed.cpus.isEmpty)
        #expect(Set(allowed.cpus).isSubset(of: Set(online.cpus)))
    }

    @Test("pinning the calling thread changes its affinity, and it can be restored")
    func pin() throws {
        let original = try CPUSet.currentThreadAffinity()
        let target = try #require(original.cpus.last)
        defer { try? original.pinCurrentThread() }
        try CPUSet([target]).pinCurrentThread()
        #expect(try CPUSet.currentThreadAffinity() == CPUSet([target]))
        try original.pinCurrentThread()
        #expect(try CPUSet.currentThreadAffinity() == original)
    }

    @Test("set operations")
    func setOperations() {
        let a = CPUSet([0, 1, 2, 5]), b = CPUSet([1, 5, 7])
        #expect(a.intersection(b) == CPUSet([1, 5]))
        #expect(a.subtracting(b) == CPUSet([0, 2]))
    }

    @Test("a NUMA node's CPUs are online CPUs; libnuma places each online CPU on a node")
    func numaNode() throws {
        let online = try CPUSet.online()
        let cpu = try #require(online.cpus.first)
        guard let node = NUMA.node(ofCPU: cpu) else {
            #expect(!NUMA.isAvailable)
            return
        }
        let local = try CPUSet.ofNUMANode(node)
        #expect(local.cpus.contains(cpu))
        #expect(throws: SystemError.self) { try CPUSet.ofNUMANode(100_000) }
    }

    @Test("a thread that prefers a node reports it; the preference leaves its affinity alone")
    func numaPreference() throws {
        guard NUMA.isAvailable, let node = NUMA.node(ofCPU: try #require(CPUSet.online().cpus.first)) else { return }
        let affinity = try CPUSet.currentThreadAffinity()
        NUMA.preferNodeForCurrentThread(node)
        #expect(NUMA.preferredNodeOfCurrentThread == node)
        #expect(try CPUSet.currentThreadAffinity() == affinity)
    }

    @Test("naming the calling thread shows in /proc, cut to 15 bytes")
    func threadName() throws {
        let path = "/proc/thread-self/comm"
        func comm() -> String {
            guard let file = fopen(path, "r") else { return "" }
            defer { fclose(file) }
            var buffer = [CChar](repeating: 0, count: 64)
            _ = fgets(&buffer, Int32(buffer.count), file)
            return String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let original = comm()
        defer { CPUSet.nameCurrentThread(original) }
        CPUSet.nameCurrentThread("peregrine-w0")
        #expect(comm() == "peregrine-w0")
        CPUSet.nameCurrentThread("peregrine-worker-123")
        #expect(comm() == "peregrine-worke")
    }

    @Test("pinning to no online CPU fails with EINVAL naming sched_setaffinity")
    func pinOffline() throws {
        let online = try CPUSet.online()
        let offline = try #require((0..<CPUSet.capacity).first { !online.cpus.contains($0) })
        let original = try CPUSet.currentThreadAffinity()
        defer { try? original.pinCurrentThread() }
        #expect(throws: SystemError.syscall(call: "sched_setaffinity(\(offline))", errno: 22, interface: nil)) {
            try CPUSet([offline]).pinCurrentThread()
        }
    }
}
