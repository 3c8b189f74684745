// SPDX-License-Identifier: Apache-2.0
import CPcap
import CPeregrineLinux

/// A classic BPF program for `SO_ATTACH_FILTER`, compiled from a tcpdump-style expression by libpcap.
///
/// Compiling happens on a "dead" pcap handle (no capture is opened): libpcap is used only as the
/// compiler, and the program runs in the kernel on the socket, so filtered-out packets never reach the
/// ring and are not counted in `tp_packets`.
///
/// Two kernel facts change what an expression matches on a live AF_PACKET socket compared with a file:
/// the kernel has already removed the outer VLAN tag when the filter runs (it is in the skb's metadata,
/// not in the bytes), so `tcp` matches tagged TCP frames and `vlan 10` does not match anything; and a
/// program compiled for a dead handle does not use libpcap's Linux-only VLAN metadata loads.
public struct PacketFilterProgram: Sendable {
    /// The instructions, in the kernel's `struct sock_filter` layout (which is libpcap's `bpf_insn`).
    public let instructions: [sock_filter]

    /// A program that accepts nothing (`ret #0`): attached while a socket joins its fanout group, so that
    /// no packet reaches a socket before the group spreads them (linux-capture-facts.md §2).
    public static let rejectAll = PacketFilterProgram(instructions: [sock_filter(code: 0x06, jt: 0, jf: 0, k: 0)])

    private init(instructions: [sock_filter]) {
        self.instructions = instructions
    }

    /// Compiles `expression` for Ethernet frames of at most `snapLength` bytes, optimised.
    ///
    /// The corresponding C calls are `pcap_open_dead(DLT_EN10MB, snapLength)`, `pcap_compile` (netmask
    /// unknown, so `ip broadcast` is rejected) and `pcap_freecode`.
    /// - Throws: `SystemError.invalidFilter` with libpcap's message.
    public init(compiling expression: String, snapLength: Int32 = 262_144, interface: String? = nil)
        throws(SystemError)
    {
        guard let handle = pcap_open_dead(DLT_EN10MB, snapLength) else {
            throw .invalidFilter(expression: expression, reason: "pcap_open_dead failed", interface: interface)
        }
        defer { pcap_close(handle) }
        var program = bpf_program()
        guard pcap_compile(handle, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw .invalidFilter(
                expression: expression, reason: String(cString: pcap_geterr(handle)), interface: interface)
        }
        defer { pcap_freecode(&program) }
        let compiled = UnsafeBufferPointer(start: program.bf_insns, count: Int(program.bf_len))
        self.instructions = compiled.map { sock_filter(code: $0.code, jt: $0.jt, jf: $0.jf, k: $0.k) }
    }
}
