// SPDX-License-Identifier: Apache-2.0
import CPeregrineLinux
import PeregrineSystem
import Testing

@Suite("PacketFilterProgram")
struct PacketFilterProgramTests {
    @Test("compiles an expression to classic BPF ending in return instructions")
    func compiles() throws {
        let program = try PacketFilterProgram(compiling: "tcp port 80")
        #expect(program.instructions.count > 4)
        // BPF_RET | BPF_K = 0x06: the program ends by returning a snap length or 0.
        #expect(program.instructions.last?.code == 0x06)
        #expect(program.instructions.contains { $0.code == 0x06 && $0.k == 262_144 })
    }

    @Test("reject-all is a single `ret #0`")
    func rejectAll() {
        #expect(PacketFilterProgram.rejectAll.instructions.count == 1)
        #expect(PacketFilterProgram.rejectAll.instructions[0].code == 0x06)
        #expect(PacketFilterProgram.rejectAll.instructions[0].k == 0)
    }

    @Test("a bad expression throws libpcap's message")
    func invalid() {
        #expect {
            try PacketFilterProgram(compiling: "tcp port eighty", interface: "eth0")
        } throws: { error in
            guard case .invalidFilter(let expression, let reason, let interface) = error as? SystemError else { return false }
            return expression == "tcp port eighty" && !reason.isEmpty && interface == "eth0"
        }
    }
}
