// SPDX-License-Identifier: Apache-2.0
import CPcap
import Glibc
import PeregrineCore

/// A packet source that reads a pcap or pcapng file, mapped into memory.
///
/// Frames are handed out without copying: each `CapturedFrame` points into the file's mapping and is
/// valid only inside the callback that receives it (pages already read are given back as reading
/// goes on, so the resident set does not grow with the file). The per-packet path allocates nothing
/// (no existential, no escaping closure): the callbacks are non-escaping, so their context lives on
/// the caller's stack. `MappedPcapReader` parses the file; libpcap is used only to compile a capture
/// filter and run it (`pcap_offline_filter`).
///
/// ```swift
/// let source = try PcapFileSource(path: "trace.pcap", filter: "tcp port 80")
/// let summary = try source.forEachFrame { frame in
///     decoder.decode(frame.bytes, linkType: frame.linkType, at: frame.timestamp)
/// }
/// ```
///
/// **pcapng with several interfaces.** Every frame carries the link type of the interface it was
/// captured on, so one file may mix link types (libpcap 1.10 refuses such files). A frame whose link
/// type Peregrine cannot decode stops reading with `PcapError.readFailed` after the frames before it.
///
/// Reading errors in the middle of the file (a truncated last packet: "truncated dump file; tried to
/// read N captured bytes, only got M") are thrown only after every readable packet was delivered.
public final class PcapFileSource {
    /// The path the source was opened with, as given.
    public let path: String
    /// The capture filter in effect, or `nil` for none.
    public let filter: String?
    /// The link-layer type (LINKTYPE_* number) of the file (classic pcap) or of its first interface
    /// (pcapng).
    public let linkType: UInt32
    /// The snapshot length recorded in the file (or its first interface), 262144 where the file
    /// gives 0, as libpcap's `pcap_snapshot` reports it.
    public let snapshotLength: Int
    /// Whether the file is pcapng rather than classic pcap.
    public let isPcapng: Bool

    /// Counts over every frame delivered so far, across all read calls.
    public var summary: PcapReadSummary { cursor.summary }

    private let file: UnsafeMappedFile
    /// The first byte of the file's mapping, and how many bytes from there were given back (tests).
    var mappedBase: UnsafeRawPointer? { file.base }
    var releasedBytes: Int { file.releasedBytes }
    /// Where reading stands. The read loops copy it into a local and store it back when they
    /// return: per frame, a class property would cost a dynamic exclusivity check (`swift_beginAccess`,
    /// measured at ~150 instructions per packet with callgrind).
    private var cursor: Cursor
    private let compiledFilter: CaptureFilter?

    /// The reading position and what it has checked so far.
    private struct Cursor {
        var reader: MappedPcapReader
        /// The link type of the frame checked last against `supportedLinkTypes`.
        var checkedLinkType: UInt32
        /// Counts over every frame delivered.
        var summary = PcapReadSummary()
        /// End of file (or a read error) was reached.
        var finished = false
    }

    /// The link types Peregrine's decoders handle (LINKTYPE_* numbers): NULL (0), Ethernet (1),
    /// raw IP (101), OpenBSD loopback (108), Linux cooked v1 (113), raw IPv4 (228), raw IPv6 (229),
    /// Linux cooked v2 (276).
    public static let supportedLinkTypes: Set<UInt32> = [0, 1, 101, 108, 113, 228, 229, 276]

    /// Bytes read between two questions to `oldestInUse` when frames are kept
    /// (``forEachFrame(keepingFrom:_:)``).
    static let releaseCheckStep = 1 << 20

    /// Opens `path` (pcap or pcapng) and compiles the optional BPF `filter`.
    ///
    /// The file is mapped (`mmap`) and its header checked; the filter is compiled by libpcap
    /// (`pcap_open_dead`, `pcap_compile`) for the file's link type.
    /// - Throws: `PcapError.cannotOpen` (missing file, directory, empty file, not a capture, cut-short
    ///   header), `.unsupportedLinkType`, `.invalidFilter`; each names the file.
    public init(path: String, filter: String? = nil) throws(PcapError) {
        self.path = path
        self.filter = filter
        try Self.checkRegularFile(path)
        do {
            file = try UnsafeMappedFile(path: path)
        } catch {
            throw .cannotOpen(path: path, reason: error.reason)
        }
        let reader: MappedPcapReader
        let first: (linkType: UInt32, snapshotLength: UInt32)
        do {
            reader = try MappedPcapReader(base: file.base, size: file.size)
            first = try reader.firstInterface()
        } catch {
            throw .cannotOpen(path: path, reason: error.reason)
        }
        linkType = first.linkType
        snapshotLength = Int(first.snapshotLength)
        isPcapng = reader.format == .pcapng
        cursor = Cursor(reader: reader, checkedLinkType: first.linkType)
        guard Self.supportedLinkTypes.contains(linkType) else {
            throw .unsupportedLinkType(path: path, linkType: linkType, name: Self.linkTypeName(linkType))
        }
        if let filter {
            do {
                compiledFilter = try CaptureFilter(expression: filter, linkType: linkType, snapshotLength: snapshotLength)
            } catch {
                throw .invalidFilter(path: path, filter: filter, reason: error.reason)
            }
        } else {
            compiledFilter = nil
        }
    }

    /// Hands every remaining frame to `body`, in file order, and returns the counts of this call.
    ///
    /// `frame.bytes` points into the file's mapping and is valid only until `body` returns.
    /// - Throws: the error `body` throws (reading stops there), or `PcapError.readFailed` after all
    ///   frames before a mid-file read error were delivered.
    @discardableResult
    public func forEachFrame(_ body: (borrowing CapturedFrame) throws -> Void) throws -> PcapReadSummary {
        try forEachFrame(keepingFrom: { nil }, body)
    }

    /// Hands every remaining frame to `body`, in file order, and leaves each frame's bytes mapped
    /// after `body` returns, for a reader that hands frames to other threads without copying them
    /// (`--workers N`).
    ///
    /// The bytes of a frame stay valid until the source gives back the pages they lie in. It does so
    /// as reading goes on, once per `UnsafeMappedFile.releaseGranularity` bytes read, and then only
    /// for pages wholly before the address `oldestInUse()` returns: the first byte some thread may
    /// still read (an address below the mapping keeps all of it), or `nil` when every frame
    /// delivered so far is done with. The mapping itself lives as long as the source.
    /// - Throws: as ``forEachFrame(_:)``.
    @discardableResult
    public func forEachFrame(
        keepingFrom oldestInUse: () -> UnsafeRawPointer?, _ body: (borrowing CapturedFrame) throws -> Void
    ) throws -> PcapReadSummary {
        var cursor = self.cursor
        defer { self.cursor = cursor }
        let before = cursor.summary
        // `oldestInUse` is asked at most once per `releaseCheckStep` bytes read.
        var checkAt = 0
        while let frame = try nextFrame(&cursor) {
            try body(frame)
            let offset = cursor.reader.offset
            if offset >= checkAt && file.releaseIsDue(before: offset) {
                let inUse = oldestInUse().map { max(0, $0 - file.base) } ?? offset
                file.release(before: min(offset, inUse))
                checkAt = offset &+ Self.releaseCheckStep
            }
        }
        return cursor.summary.since(before)
    }

    /// Capture statistics, or `nil` where the source has none: files never have them (libpcap's
    /// `pcap_stats` says "Statistics aren't available from savefiles").
    public func captureStatistics() -> PcapCaptureStatistics? {
        nil
    }

    // MARK: - Per-packet helpers

    /// The next frame that passes the filter, counted in the cursor's summary; `nil` at the end of
    /// the file.
    private func nextFrame(_ cursor: inout Cursor) throws(PcapError) -> CapturedFrame? {
        while !cursor.finished {
            switch cursor.reader.next() {
            case .frame(let frame):
                if frame.linkType != cursor.checkedLinkType {
                    // A pcapng interface with another link type: readable only if Peregrine decodes it.
                    guard Self.supportedLinkTypes.contains(frame.linkType) else {
                        cursor.finished = true
                        throw .readFailed(
                            path: path, packetsDelivered: cursor.summary.packets,
                            reason: "an interface has unsupported link type \(frame.linkType) "
                                + "(\(Self.linkTypeName(frame.linkType)))")
                    }
                    cursor.checkedLinkType = frame.linkType
                }
                if let compiledFilter {
                    do {
                        guard try compiledFilter.matches(frame) else { continue }
                    } catch {
                        cursor.finished = true
                        throw .invalidFilter(path: path, filter: compiledFilter.expression, reason: error.reason)
                    }
                }
                cursor.summary.count(capturedLength: frame.bytes.count, wireLength: frame.wireLength)
                return frame
            case .end:
                cursor.finished = true
            case .failure(let reason):
                cursor.finished = true
                throw .readFailed(path: path, packetsDelivered: cursor.summary.packets, reason: reason)
            }
        }
        return nil
    }

    // MARK: - Setup helpers

    /// Gives clear reasons for a missing file, a directory and an empty file before mapping it.
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

    /// libpcap's name for a link type ("EN10MB", "USER0"), or "unknown".
    ///
    /// The corresponding C call is `pcap_datalink_val_to_name`.
    private static func linkTypeName(_ linkType: UInt32) -> String {
        pcap_datalink_val_to_name(CaptureFilter.dataLinkType(linkType)).map { String(cString: $0) } ?? "unknown"
    }
}
