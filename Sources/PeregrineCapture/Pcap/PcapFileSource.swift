// SPDX-License-Identifier: Apache-2.0
import CPcap
import Glibc
import PeregrineCore

/// A packet source that reads a pcap or pcapng file through libpcap.
///
/// Frames are handed out without copying: each `CapturedFrame` borrows libpcap's buffer and is valid
/// only inside the callback that receives it. The per-packet path allocates nothing (no existential,
/// no escaping closure): the callbacks are non-escaping, so their context lives on the caller's stack.
///
/// ```swift
/// let source = try PcapFileSource(path: "trace.pcap", filter: "tcp port 80")
/// let summary = try source.forEachFrame { frame in
///     decoder.decode(frame.bytes, linkType: frame.linkType, at: frame.timestamp)
/// }
/// ```
///
/// **pcapng with several interfaces.** libpcap (1.10, Debian 12) reads every interface of a pcapng
/// file as long as they all share the first interface's link type; `pcap_next_ex` does not say which
/// interface a packet came from, so every frame carries the file's single `linkType`. A file whose
/// interfaces have different link types fails when the reader meets the second interface's
/// description block ("an interface has a type N different from the type of the first interface"),
/// which surfaces here as `PcapError.readFailed` after the packets before it.
///
/// Reading errors in the middle of the file (a truncated last packet: "truncated dump file; tried to
/// read N captured bytes, only got M") are thrown only after every readable packet was delivered.
public final class PcapFileSource {
    /// The path the source was opened with, as given.
    public let path: String
    /// The capture filter in effect, or `nil` for none.
    public let filter: String?
    /// The link-layer type (LINKTYPE_* number) of the file's frames.
    ///
    /// The corresponding C call is `pcap_datalink` (whose DLT_* value is mapped to LINKTYPE_*).
    public let linkType: UInt32
    /// The snapshot length recorded in the file. The corresponding C call is `pcap_snapshot`.
    public let snapshotLength: Int
    /// Whether the file is pcapng rather than classic pcap.
    public let isPcapng: Bool

    /// Counts over every frame delivered so far, across all read calls.
    public private(set) var summary = PcapReadSummary()

    /// A read error met by `readBatch` after it had already delivered frames in that call; the next
    /// call throws it, so the frames before the error are never lost.
    private var pendingError: PcapError?
    /// End of file was reached.
    private var finished = false
    private let handle: OpaquePointer

    /// The link types Peregrine's decoders handle (LINKTYPE_* numbers): NULL (0), Ethernet (1),
    /// raw IP (101), OpenBSD loopback (108), Linux cooked v1 (113), raw IPv4 (228), raw IPv6 (229),
    /// Linux cooked v2 (276).
    public static let supportedLinkTypes: Set<UInt32> = [0, 1, 101, 108, 113, 228, 229, 276]

    /// Opens `path` (pcap or pcapng) with nanosecond timestamps and sets the optional BPF `filter`.
    ///
    /// The corresponding C calls are `pcap_open_offline_with_tstamp_precision` (with
    /// `PCAP_TSTAMP_PRECISION_NANO`), `pcap_datalink`, `pcap_compile` and `pcap_setfilter`.
    /// - Throws: `PcapError.cannotOpen` (missing file, directory, empty file, not a capture, cut-short
    ///   header), `.unsupportedLinkType`, `.invalidFilter`; each names the file.
    public init(path: String, filter: String? = nil) throws(PcapError) {
        self.path = path
        self.filter = filter
        try Self.checkRegularFile(path)

        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        let opened = pcap_open_offline_with_tstamp_precision(
            path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errorBuffer)
        guard let handle = opened else {
            let message = errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            throw .cannotOpen(path: path, reason: String(decoding: message, as: UTF8.self))
        }
        self.handle = handle
        // The handle is owned from here on: deinit closes it whether or not init finishes.
        self.linkType = Self.linkType(fromDLT: pcap_datalink(handle))
        self.snapshotLength = Int(pcap_snapshot(handle))
        self.isPcapng = Self.hasPcapngMagic(path)

        guard Self.supportedLinkTypes.contains(linkType) else {
            let name = pcap_datalink_val_to_name(pcap_datalink(handle)).map { String(cString: $0) } ?? "unknown"
            throw .unsupportedLinkType(path: path, linkType: linkType, name: name)
        }
        if let filter {
            try setFilter(filter)
        }
    }

    deinit {
        pcap_close(handle)
    }

    /// Hands every remaining frame to `body`, in file order, and returns the counts of this call.
    ///
    /// The corresponding C call is `pcap_next_ex`, once per frame. `frame.bytes` points into libpcap's
    /// buffer and is valid only until `body` returns.
    /// - Throws: the error `body` throws (reading stops there), or `PcapError.readFailed` after all
    ///   frames before a mid-file read error were delivered.
    @discardableResult
    public func forEachFrame(_ body: (borrowing CapturedFrame) throws -> Void) throws -> PcapReadSummary {
        var local = PcapReadSummary()
        if let error = takePendingError() { throw error }
        while true {
            var header: UnsafeMutablePointer<pcap_pkthdr>?
            var data: UnsafePointer<UInt8>?
            let status = pcap_next_ex(handle, &header, &data)
            guard status == 1, let header, let data else {
                try finishOrThrow(status: status)
                return local
            }
            let frame = makeFrame(header, data)
            summary.count(capturedLength: frame.bytes.count, wireLength: frame.wireLength)
            local.count(capturedLength: frame.bytes.count, wireLength: frame.wireLength)
            try body(frame)
        }
    }

    /// Hands at most `max` frames to `body` and returns how many it delivered; 0 means end of file.
    ///
    /// Meant for a reader that spreads frames over workers (`--workers N`): `body` copies what it
    /// keeps, because `frame.bytes` is valid only until `body` returns. A read error met after some
    /// frames of this batch were delivered is thrown by the next call.
    /// The corresponding C call is `pcap_next_ex`, once per frame.
    /// - Throws: `PcapError.readFailed` when the file cannot be read further.
    public func readBatch(max: Int, _ body: (CapturedFrame) -> Void) throws(PcapError) -> Int {
        if let error = takePendingError() { throw error }
        var delivered = 0
        while delivered < max, !finished {
            var header: UnsafeMutablePointer<pcap_pkthdr>?
            var data: UnsafePointer<UInt8>?
            let status = pcap_next_ex(handle, &header, &data)
            guard status == 1, let header, let data else {
                do {
                    try finishOrThrow(status: status)
                } catch {
                    if delivered == 0 { throw error }
                    pendingError = error
                    return delivered
                }
                break
            }
            let frame = makeFrame(header, data)
            summary.count(capturedLength: frame.bytes.count, wireLength: frame.wireLength)
            delivered += 1
            body(frame)
        }
        return delivered
    }

    /// Capture statistics, or `nil` where the source has none (every file).
    ///
    /// The corresponding C call is `pcap_stats`, which fails for files ("Statistics aren't available
    /// from savefiles").
    public func captureStatistics() -> PcapCaptureStatistics? {
        var stats = pcap_stat()
        guard pcap_stats(handle, &stats) == 0 else { return nil }
        return PcapCaptureStatistics(received: stats.ps_recv, dropped: stats.ps_drop, interfaceDropped: stats.ps_ifdrop)
    }

    // MARK: - Per-packet helpers

    @inline(__always)
    private func makeFrame(_ header: UnsafeMutablePointer<pcap_pkthdr>, _ data: UnsafePointer<UInt8>) -> CapturedFrame {
        let h = header.pointee
        // Opened with PCAP_TSTAMP_PRECISION_NANO, so `tv_usec` holds nanoseconds.
        let ts = Timestamp(seconds: Int64(h.ts.tv_sec), nanoseconds: Int64(h.ts.tv_usec))
        return CapturedFrame(
            bytes: UnsafeRawBufferPointer(start: data, count: Int(h.caplen)),
            wireLength: Int(h.len), timestamp: ts, linkType: linkType)
    }

    /// Turns `pcap_next_ex`'s non-packet status into end of file or a thrown error.
    private func finishOrThrow(status: Int32) throws(PcapError) {
        finished = true
        if status == PCAP_ERROR_BREAK { return }  // -2: no more packets in the file.
        let reason = String(cString: pcap_geterr(handle))
        throw .readFailed(path: path, packetsDelivered: summary.packets, reason: reason)
    }

    private func takePendingError() -> PcapError? {
        defer { pendingError = nil }
        return pendingError
    }

    // MARK: - Setup helpers

    private func setFilter(_ filter: String) throws(PcapError) {
        var program = bpf_program()
        guard pcap_compile(handle, &program, filter, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw .invalidFilter(path: path, filter: filter, reason: String(cString: pcap_geterr(handle)))
        }
        defer { pcap_freecode(&program) }
        guard pcap_setfilter(handle, &program) == 0 else {
            throw .invalidFilter(path: path, filter: filter, reason: String(cString: pcap_geterr(handle)))
        }
    }

    /// Gives clear reasons for the cases where libpcap's own message would be obscure: a missing
    /// file, a directory ("error reading dump file: Is a directory") and an empty file
    /// ("truncated dump file; tried to read 4 file header bytes, only got 0").
    private static func checkRegularFile(_ path: String) throws(PcapError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw .cannotOpen(path: path, reason: "is a directory, not a capture file")
        }
        if (info.st_mode & S_IFMT) == S_IFREG, info.st_size == 0 {
            throw .cannotOpen(path: path, reason: "empty file (no pcap or pcapng header)")
        }
    }

    /// Whether the file starts with the pcapng Section Header Block type (0x0A0D0D0A).
    private static func hasPcapngMagic(_ path: String) -> Bool {
        guard let file = fopen(path, "rb") else { return false }
        defer { fclose(file) }
        var magic: UInt32 = 0
        guard fread(&magic, 4, 1, file) == 1 else { return false }
        return magic == 0x0A0D_0D0A
    }

    /// Maps libpcap's DLT_* value to the LINKTYPE_* number written in files. They agree except for
    /// raw IP, whose DLT_RAW is 12 (14 on OpenBSD) and whose LINKTYPE_RAW is 101.
    private static func linkType(fromDLT dlt: Int32) -> UInt32 {
        if dlt == DLT_RAW { return 101 }
        return UInt32(truncatingIfNeeded: dlt)
    }
}
