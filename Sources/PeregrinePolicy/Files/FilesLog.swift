// SPDX-License-Identifier: Apache-2.0
import Crypto
import Foundation
import PeregrineAnalyzers
import PeregrineCore
import PeregrineLogs

/// The native counterpart of Zeek's `base/frameworks/files/main.zeek` (with `base/files/hash`
/// and `base/files/extract` loaded, as in Zeek's default configuration): file state for data
/// that protocol analyzers hand over, MIME sniffing from the first bytes, optional hashing, and
/// files.log records.
///
/// A file is named by a handle the protocol policy builds (Zeek's `get_file_handle`); its fuid
/// is a keyed hash of that handle, so data under the same handle — an HTTP range request's
/// pieces over several connections — lands in the same file, and the fuid has Zeek's
/// `F…` format. When the file ends, one files.log line is written per connection it was seen on
/// (Zeek ≥ 5.1).
///
/// Bounds: at most ``maxOpenFiles`` files are open per worker (past it the oldest is ended and
/// counted in ``evictedFiles``); each holds at most ``MIMESniffer/bufferSize`` bytes until it is
/// sniffed, and a list of at most ``maxConnectionsPerFile`` connections.
public final class FilesLog {
    /// files.log's columns (`zeek-logs.md` §8).
    public static let schema = LogSchema(
        id: 5, path: "files",
        columns: [LogColumn("ts", .time), LogColumn("fuid", .string), LogColumn("uid", .string)]
            + LogStreams.idColumns + [
                LogColumn("source", .string), LogColumn("depth", .count), LogColumn("analyzers", .set(.string)),
                LogColumn("mime_type", .string), LogColumn("filename", .string), LogColumn("duration", .interval),
                LogColumn("local_orig", .bool), LogColumn("is_orig", .bool), LogColumn("seen_bytes", .count),
                LogColumn("total_bytes", .count), LogColumn("missing_bytes", .count),
                LogColumn("overflow_bytes", .count), LogColumn("timedout", .bool), LogColumn("parent_fuid", .string),
                LogColumn("md5", .string), LogColumn("sha1", .string), LogColumn("sha256", .string),
                LogColumn("extracted", .string), LogColumn("extracted_cutoff", .bool),
                LogColumn("extracted_size", .count),
            ])

    /// Open files per worker.
    public static let maxOpenFiles = 4096
    /// Connections remembered per file (each gets its own files.log line).
    public static let maxConnectionsPerFile = 64

    /// The connection a file was seen on.
    public struct ConnectionRef: Sendable {
        public var uid: ConnectionUID
        public var originator: IPAddress
        public var originatorPort: UInt16
        public var responder: IPAddress
        public var responderPort: UInt16

        public init(
            uid: ConnectionUID, originator: IPAddress, originatorPort: UInt16, responder: IPAddress,
            responderPort: UInt16
        ) {
            self.uid = uid
            self.originator = originator
            self.originatorPort = originatorPort
            self.responder = responder
            self.responderPort = responderPort
        }
    }

    /// One open file (`fa_file` with its `Files::Info`).
    struct File {
        var fuid: ConnectionUID
        var ts: Timestamp
        var lastActive: Timestamp
        var source: StaticString
        var depth: UInt64
        var isOrig: Bool
        var filename: [UInt8]?
        var mime: StaticString?
        var sniffed = false
        var bof: [UInt8] = []
        var seenBytes: UInt64 = 0
        var totalBytes: UInt64?
        var missingBytes: UInt64 = 0
        var overflowBytes: UInt64 = 0
        /// Next offset expected in order (bytes before it were seen or reported missing).
        var nextOffset: UInt64 = 0
        /// Byte ranges seen or reported missing, sorted and disjoint (at most
        /// `maxCoveredRanges`; past that, neighbours merge and the holes between them are
        /// no longer counted).
        var covered: [Range<UInt64>] = []

        static let maxCoveredRanges = 64

        /// Marks `r` covered. - Returns: how many of its bytes were not covered before.
        mutating func cover(_ r: Range<UInt64>) -> UInt64 {
            guard !r.isEmpty else { return 0 }
            // The usual case, data in order: extend the last range (no allocation).
            if let last = covered.last, last.upperBound == r.lowerBound {
                covered[covered.count - 1] = last.lowerBound..<r.upperBound
                return UInt64(r.count)
            }
            var fresh = UInt64(r.count)
            var lower = r.lowerBound, upper = r.upperBound
            var kept: [Range<UInt64>] = []
            for c in covered {
                if c.upperBound < lower || c.lowerBound > upper {
                    kept.append(c)
                } else {
                    fresh -= UInt64(c.clamped(to: r).count)
                    lower = min(lower, c.lowerBound)
                    upper = max(upper, c.upperBound)
                }
            }
            let at = kept.firstIndex { $0.lowerBound > lower } ?? kept.count
            kept.insert(lower..<upper, at: at)
            if kept.count > Self.maxCoveredRanges {
                kept[0] = kept[0].lowerBound..<kept[1].upperBound
                kept.remove(at: 1)
            }
            covered = kept
            return fresh
        }

        /// Bytes below the highest one seen that were never covered (Zeek's file reassembler
        /// reports them missing when the file is flushed).
        var holes: UInt64 {
            var total: UInt64 = 0
            var at: UInt64 = 0
            for c in covered {
                if c.lowerBound > at { total += c.lowerBound - at }
                at = c.upperBound
            }
            return total
        }
        var timedout = false
        var conns: [ConnectionRef] = []
        var md5: Insecure.MD5?
        var sha1: Insecure.SHA1?
        var sha256: SHA256?
    }

    var files: [ConnectionUID: File] = [:]
    var openOrder: [ConnectionUID] = []
    var finished: [File] = []
    var record: LogRecordEncoder
    let key: [UInt8]
    let hashes: Bool
    /// Files ended early because ``maxOpenFiles`` were open.
    public private(set) var evictedFiles: UInt64 = 0
    /// Records written.
    public private(set) var records: UInt64 = 0
    /// Files seen (stats.log `files`, Zeek's `get_file_analysis_stats()$cumulative`).
    public private(set) var filesSeen: UInt64 = 0
    /// Files open now (stats.log `active_files`).
    public var openFiles: Int { files.count }

    /// - Parameters:
    ///   - seed: keys the handle → fuid hash (fixed in tests, random in production).
    ///   - hashes: compute MD5, SHA1 and SHA256 of every file (Zeek's
    ///     `policy/frameworks/files/hash-all-files`; off in Zeek's default configuration).
    public init(seed: UInt64, hashes: Bool = false) {
        var k: [UInt8] = []
        for s in 0..<8 { k.append(UInt8(truncatingIfNeeded: seed >> (8 * UInt64(s)))) }
        key = k
        self.hashes = hashes
        record = LogRecordEncoder(schema: Self.schema)
    }

    /// The fuid of the file named `handle` (Zeek's `file_mgr->HashHandle`: a keyed hash of the
    /// handle, written like a connection uid with prefix `F`).
    public func fuid(handle: [UInt8]) -> ConnectionUID {
        var h = SHA256()
        h.update(data: key)
        h.update(data: handle)
        var words: (UInt64, UInt64) = (0, 0)
        h.finalize().withUnsafeBytes { d in
            for k in 0..<8 {
                words.0 = words.0 << 8 | UInt64(d[k])
                words.1 = words.1 << 8 | UInt64(d[8 + k])
            }
        }
        return ConnectionUID(word0: words.0, word1: words.1 | 1)
    }

    /// Whether a file with `fuid` is open.
    public func isOpen(_ fuid: ConnectionUID) -> Bool { files[fuid] != nil }

    /// Opens the file `fuid` if needed and attaches `connection` to it (Zeek's `file_new` and
    /// `file_over_new_connection`).
    /// - Returns: true when the connection is new for the file (the protocol policy then adds
    ///   the fuid to its own log).
    @discardableResult
    public func attach(
        _ fuid: ConnectionUID, source: StaticString, depth: UInt64, isOrig: Bool, filename: [UInt8]?,
        connection: ConnectionRef, now: Timestamp
    ) -> Bool {
        if files[fuid] == nil {
            if files.count >= Self.maxOpenFiles, let oldest = openOrder.first {
                evictedFiles &+= 1
                end(oldest, timedout: false)
            }
            var f = File(fuid: fuid, ts: now, lastActive: now, source: source, depth: depth, isOrig: isOrig)
            if hashes {
                f.md5 = Insecure.MD5()
                f.sha1 = Insecure.SHA1()
                f.sha256 = SHA256()
            }
            files[fuid] = f
            openOrder.append(fuid)
            filesSeen &+= 1
        }
        if let filename { files[fuid]!.filename = filename }
        guard !files[fuid]!.conns.contains(where: { $0.uid == connection.uid }),
            files[fuid]!.conns.count < Self.maxConnectionsPerFile
        else { return false }
        files[fuid]!.conns.append(connection)
        return true
    }

    /// Sets the file's full size (`file_mgr->SetSize`).
    public func setSize(_ fuid: ConnectionUID, _ size: UInt64) {
        files[fuid]?.totalBytes = size
    }

    /// Bytes of the file at `offset`.
    /// - Returns: the MIME type when this call sniffed the file (Zeek's `file_sniff`), so the
    ///   protocol policy can record it.
    public func data(_ fuid: ConnectionUID, _ bytes: UnsafeRawBufferPointer, offset: UInt64, now: Timestamp)
        -> StaticString??
    {
        // Updated in place through the dictionary's values: taking the entry out and putting it
        // back copied the whole `File` and hashed the fuid twice per data chunk (callgrind).
        guard let i = files.index(forKey: fuid) else { return nil }
        return data(&files.values[i], bytes, offset: offset, now: now)
    }

    func data(_ f: inout File, _ bytes: UnsafeRawBufferPointer, offset: UInt64, now: Timestamp) -> StaticString?? {
        f.lastActive = now
        let fresh = f.cover(offset..<(offset &+ UInt64(bytes.count)))
        f.seenBytes &+= fresh
        if fresh < UInt64(bytes.count) { f.overflowBytes &+= UInt64(bytes.count) - fresh }
        if hashes && offset == f.nextOffset {
            f.md5?.update(bufferPointer: bytes)
            f.sha1?.update(bufferPointer: bytes)
            f.sha256?.update(bufferPointer: bytes)
        }
        if offset <= f.nextOffset { f.nextOffset = max(f.nextOffset, offset &+ UInt64(bytes.count)) }
        guard !f.sniffed else { return nil }
        let room = MIMESniffer.bufferSize - f.bof.count
        f.bof.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<min(room, bytes.count)]))
        guard f.bof.count >= MIMESniffer.bufferSize else { return nil }
        return .some(sniff(&f))
    }

    /// `length` bytes of the file at `offset` were never seen.
    public func gap(_ fuid: ConnectionUID, length: UInt64, offset: UInt64, now: Timestamp) {
        guard files[fuid] != nil else { return }
        files[fuid]!.lastActive = now
        files[fuid]!.missingBytes &+= files[fuid]!.cover(offset..<(offset &+ length))
    }

    func sniff(_ f: inout File) -> StaticString? {
        f.sniffed = true
        f.mime = f.bof.withUnsafeBytes { MIMESniffer.sniff($0) }
        f.bof = []
        return f.mime
    }

    /// Sniffs a file that ended before its first ``MIMESniffer/bufferSize`` bytes.
    /// - Returns: as ``data(_:_:offset:now:)``.
    public func sniffIfNeeded(_ fuid: ConnectionUID) -> StaticString?? {
        guard var f = files.removeValue(forKey: fuid) else { return nil }
        defer { files[fuid] = f }
        guard !f.sniffed, f.seenBytes > 0 else { return nil }
        return .some(sniff(&f))
    }

    /// The file ends (`file_state_remove`): its lines are written at the next ``flush(into:)``.
    public func end(_ fuid: ConnectionUID, timedout: Bool = false) {
        guard var f = files.removeValue(forKey: fuid) else { return }
        if let i = openOrder.firstIndex(of: fuid) { openOrder.remove(at: i) }
        if !f.sniffed && f.seenBytes > 0 { _ = sniff(&f) }
        f.timedout = f.timedout || timedout
        finished.append(f)
    }

    /// End of input: every open file times out (Zeek flushes them with `file_timeout` then
    /// `file_state_remove` at termination).
    public func endAll() {
        for fuid in openOrder { end(fuid, timedout: true) }
    }

    /// Writes the lines of ended files.
    public func flush(into logs: inout LogStreams) {
        guard !finished.isEmpty else { return }
        for f in finished {
            if f.conns.isEmpty {
                write(f, connection: nil, logs: &logs)
            } else {
                for c in f.conns { write(f, connection: c, logs: &logs) }
            }
        }
        finished.removeAll(keepingCapacity: true)
    }

    func write(_ f: File, connection c: ConnectionRef?, logs: inout LogStreams) {
        var r = record
        r.reset()
        r.time(f.ts)
        r.uid(f.fuid, prefix: "F")
        if let c {
            r.uid(c.uid)
            r.addr(c.originator)
            r.port(c.originatorPort)
            r.addr(c.responder)
            r.port(c.responderPort)
        } else {
            for _ in 0..<5 { r.unset() }
        }
        r.string(f.source)
        r.count(f.depth)
        if hashes {
            r.beginSet(count: 3)
            r.string("MD5")
            r.string("SHA1")
            r.string("SHA256")
        } else {
            r.beginSet(count: 0)
        }
        if let m = f.mime { r.string(m) } else { r.unset() }
        if let name = f.filename { name.withUnsafeBytes { r.string($0) } } else { r.unset() }
        r.interval(f.lastActive.since(f.ts))
        if let c, !logs.local.isEmpty {
            r.bool(logs.local.contains(f.isOrig ? c.originator : c.responder))
        } else {
            r.unset()
        }
        r.bool(f.isOrig)
        r.count(f.seenBytes)
        if let t = f.totalBytes { r.count(t) } else { r.unset() }
        r.count(f.missingBytes &+ f.holes)
        r.count(f.overflowBytes)
        r.bool(f.timedout)
        r.unset()
        if hashes, let md5 = f.md5, let sha1 = f.sha1, let sha256 = f.sha256 {
            Self.hex(md5.finalize(), into: &r)
            Self.hex(sha1.finalize(), into: &r)
            Self.hex(sha256.finalize(), into: &r)
        } else {
            r.unset()
            r.unset()
            r.unset()
        }
        r.unset()
        r.unset()
        r.unset()
        logs.write(r)
        record = r
        records &+= 1
    }

    static func hex<D: Digest>(_ d: D, into r: inout LogRecordEncoder) {
        let digits: StaticString = "0123456789abcdef"
        var out: [UInt8] = []
        out.reserveCapacity(D.byteCount * 2)
        d.withUnsafeBytes { b in
            for x in b {
                out.append(digits.utf8Start[Int(x >> 4)])
                out.append(digits.utf8Start[Int(x & 0xF)])
            }
        }
        out.withUnsafeBytes { r.string($0) }
    }
}
