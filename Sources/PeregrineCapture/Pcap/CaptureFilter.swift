// SPDX-License-Identifier: Apache-2.0
import CPcap
import PeregrineCore

/// A BPF capture filter (`-f`, tcpdump syntax) applied to frames read from a file.
///
/// libpcap compiles the expression; a program depends on the link type, so there is one per link
/// type met (a pcapng file may mix them), compiled on a "dead" handle the first time a frame of that
/// type is seen. Matching runs libpcap's BPF interpreter on the borrowed frame.
final class CaptureFilter {
    /// The expression as given.
    let expression: String
    private let snapshotLength: Int32
    /// Programs by link type, each allocated once and freed in `deinit`.
    private var programs: [(linkType: UInt32, program: UnsafeMutablePointer<bpf_program>)] = []
    /// The program of the link type matched last, so a file of one link type never searches.
    private var lastLinkType: UInt32
    private var lastProgram: UnsafeMutablePointer<bpf_program>

    /// Compiles `expression` for the file's first link type.
    /// - Throws: libpcap's reason when the expression does not compile for that link type.
    init(expression: String, linkType: UInt32, snapshotLength: Int) throws(CompileFailure) {
        self.expression = expression
        self.snapshotLength = Int32(clamping: snapshotLength)
        let program = try Self.compile(expression, linkType: linkType, snapshotLength: self.snapshotLength)
        programs.append((linkType, program))
        lastLinkType = linkType
        lastProgram = program
    }

    deinit {
        for entry in programs {
            pcap_freecode(entry.program)
            entry.program.deallocate()
        }
    }

    /// Whether `frame` passes the filter.
    ///
    /// The corresponding C call is `pcap_offline_filter`.
    /// - Throws: libpcap's reason when the expression does not compile for a new link type.
    func matches(_ frame: borrowing CapturedFrame) throws(CompileFailure) -> Bool {
        if frame.linkType != lastLinkType { try select(frame.linkType) }
        var header = pcap_pkthdr()
        header.caplen = UInt32(frame.bytes.count)
        header.len = UInt32(truncatingIfNeeded: frame.wireLength)
        guard let start = frame.bytes.baseAddress else { return false }
        return pcap_offline_filter(lastProgram, &header, start.assumingMemoryBound(to: UInt8.self)) != 0
    }

    private func select(_ linkType: UInt32) throws(CompileFailure) {
        if let found = programs.first(where: { $0.linkType == linkType }) {
            lastProgram = found.program
        } else {
            lastProgram = try Self.compile(expression, linkType: linkType, snapshotLength: snapshotLength)
            programs.append((linkType, lastProgram))
        }
        lastLinkType = linkType
    }

    /// The corresponding C calls are `pcap_open_dead`, `pcap_compile` and `pcap_close`.
    private static func compile(
        _ expression: String, linkType: UInt32, snapshotLength: Int32
    ) throws(CompileFailure) -> UnsafeMutablePointer<bpf_program> {
        guard let dead = pcap_open_dead(dataLinkType(linkType), snapshotLength) else {
            throw CompileFailure(reason: "cannot create a pcap handle for link type \(linkType)")
        }
        defer { pcap_close(dead) }
        let program = UnsafeMutablePointer<bpf_program>.allocate(capacity: 1)
        program.initialize(to: bpf_program())
        guard pcap_compile(dead, program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            program.deallocate()
            throw CompileFailure(reason: String(cString: pcap_geterr(dead)))
        }
        return program
    }

    /// Maps a LINKTYPE_* number (as in files) to libpcap's DLT_* value. They agree except for raw IP,
    /// whose LINKTYPE_RAW is 101 and whose DLT_RAW is 12 (14 on OpenBSD).
    static func dataLinkType(_ linkType: UInt32) -> Int32 {
        linkType == 101 ? DLT_RAW : Int32(truncatingIfNeeded: linkType)
    }

    /// libpcap's reason, as one line, why the expression does not compile.
    struct CompileFailure: Error {
        var reason: String
    }
}
