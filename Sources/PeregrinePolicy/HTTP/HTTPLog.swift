// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineAnalyzers
import PeregrineCore
import PeregrineLogs
import PeregrineSessions

/// The native counterpart of Zeek's `base/protocols/http/main.zeek`, `entities.zeek` and
/// `files.zeek`: turns ``HTTPEvent``s into http.log records and hands message bodies to the
/// files framework (``FilesLog``).
///
/// Per connection it keeps Zeek's `HTTP::State`: pending transactions by number, the current
/// request and response numbers and the deepest transaction, so pipelined requests pair with
/// their replies in order, a 1xx reply keeps its transaction open, and whatever is pending when
/// the connection goes is written then (`finalize_http`). At most ``maxPendingRequests`` are
/// kept (`HTTP::max_pending_requests`): past it the pending ones are written out, as Zeek does.
///
/// Usage per delivery: ``begin(slot:connection:now:)``, pass this object as the analyzer's sink,
/// then ``flush(into:)`` to write finished records.
public final class HTTPLog: HTTPEventSink {
    /// http.log's columns (`zeek-logs.md` §5).
    public static let schema = LogSchema(
        id: 4, path: "http",
        columns: [LogColumn("ts", .time), LogColumn("uid", .string)] + LogStreams.idColumns + [
            LogColumn("trans_depth", .count), LogColumn("method", .string), LogColumn("host", .string),
            LogColumn("uri", .string), LogColumn("referrer", .string), LogColumn("version", .string),
            LogColumn("user_agent", .string), LogColumn("origin", .string), LogColumn("request_body_len", .count),
            LogColumn("response_body_len", .count), LogColumn("status_code", .count),
            LogColumn("status_msg", .string), LogColumn("info_code", .count), LogColumn("info_msg", .string),
            LogColumn("tags", .set(.enum)), LogColumn("username", .string), LogColumn("password", .string),
            LogColumn("proxied", .set(.string)), LogColumn("orig_fuids", .vector(.string)),
            LogColumn("orig_filenames", .vector(.string)), LogColumn("orig_mime_types", .vector(.string)),
            LogColumn("resp_fuids", .vector(.string)), LogColumn("resp_filenames", .vector(.string)),
            LogColumn("resp_mime_types", .vector(.string)),
        ])

    /// `HTTP::max_pending_requests`.
    public static let maxPendingRequests = 100
    /// `HTTP::max_files_orig` / `HTTP::max_files_resp`: files listed per transaction and side.
    public static let maxFilesPerSide = 15
    /// Longest header value kept for a log field; longer values are cut (bounded memory).
    public static let maxFieldLength = 8 * 1024

    /// `HTTP::proxy_headers`.
    static let proxyHeaders: [StaticString] = [
        "FORWARDED", "X-FORWARDED-FOR", "X-FORWARDED-FROM", "CLIENT-IP", "VIA", "XROXY-CONNECTION",
        "PROXY-CONNECTION",
    ]

    /// One transaction (`HTTP::Info`).
    struct Info {
        var ts: Timestamp
        var transDepth: UInt64
        var method: [UInt8]?
        var host: [UInt8]?
        var uri: [UInt8]?
        var referrer: [UInt8]?
        var version: [UInt8]?
        var userAgent: [UInt8]?
        var origin: [UInt8]?
        var requestBodyLength: UInt64 = 0
        var responseBodyLength: UInt64 = 0
        var statusCode: UInt16?
        var statusMessage: [UInt8]?
        var infoCode: UInt16?
        var infoMessage: [UInt8]?
        var username: [UInt8]?
        var password: [UInt8]?
        var proxied: [[UInt8]] = []
        var origFuids: [ConnectionUID] = []
        var origFilenames: [[UInt8]] = []
        var origMimeTypes: [StaticString] = []
        var respFuids: [ConnectionUID] = []
        var respFilenames: [[UInt8]] = []
        var respMimeTypes: [StaticString] = []
        var rangeRequest = false
        var origMimeDepth: UInt64 = 0
        var respMimeDepth: UInt64 = 0
        var entityFilename: [UInt8]?
    }

    /// The file a direction is currently sending, and the transaction it belongs to.
    struct OpenFile {
        var fuid: ConnectionUID
        var transaction: UInt64
        /// A 206 piece: the file stays open for the other pieces.
        var partial: Bool
    }

    /// A connection's transactions (`HTTP::State`).
    struct State {
        var pending: [UInt64: Info] = [:]
        var currentRequest: UInt64 = 0
        var currentResponse: UInt64 = 0
        var transDepth: UInt64 = 0
        var origFile: OpenFile?
        var respFile: OpenFile?
        var pendingSize: UInt64 = 0
        var active = false
    }

    var states: [State]
    var finished: [Info] = []
    var finishedConnection: [FilesLog.ConnectionRef] = []
    var record: LogRecordEncoder
    public let files: FilesLog
    var slot = 0
    var connection = FilesLog.ConnectionRef(
        uid: .none, originator: .zero, originatorPort: 0, responder: .zero, responderPort: 0)
    var startTime = Timestamp.zero
    var now = Timestamp.zero
    /// Weirds raised during the current delivery, for the engine to log.
    public var weirds = WeirdQueue()
    /// Records written.
    public private(set) var records: UInt64 = 0

    /// - Parameters:
    ///   - capacity: the HTTP analyzer pool's capacity (slots are 1-based).
    ///   - files: the worker's files framework.
    public init(capacity: Int, files: FilesLog) {
        states = Array(repeating: State(), count: capacity + 1)
        record = LogRecordEncoder(schema: Self.schema)
        self.files = files
    }

    /// Sets the connection the next events belong to.
    public func begin(
        slot: UInt32, uid: ConnectionUID, originator: IPAddress, originatorPort: UInt16, responder: IPAddress,
        responderPort: UInt16, startTime: Timestamp, now: Timestamp
    ) {
        self.slot = Int(slot)
        connection = FilesLog.ConnectionRef(
            uid: uid, originator: originator, originatorPort: originatorPort, responder: responder,
            responderPort: responderPort)
        self.startTime = startTime
        self.now = now
        if !states[self.slot].active { states[self.slot] = State(active: true) }
    }

    // MARK: - Events

    public func httpWeird(_ weird: Weird) { weirds.append(weird) }

    public func http(_ event: HTTPEvent, isOriginator: Bool) {
        switch event {
        case .request(let method, let uri, _):
            request(method: Array(method), uri: Array(uri))
        case .reply(let version, let code, let reason):
            reply(version: Array(version), code: code, reason: Array(reason))
        case .header(let name, let value, let depth):
            header(name: name, value: value, depth: depth, isOrig: isOriginator)
        case .beginEntity:
            withInfo(isOriginator) { info in
                if isOriginator { info.origMimeDepth += 1 } else { info.respMimeDepth += 1 }
                info.entityFilename = nil
            }
        case .entityData(let data, let offset):
            entityData(data, offset: offset, isOrig: isOriginator)
        case .entitySize(let size):
            states[slot].pendingSize = size
        case .entityGap(let length, let offset):
            if let f = isOriginator ? states[slot].origFile : states[slot].respFile {
                files.gap(f.fuid, length: length, offset: offset, now: now)
            }
        case .endEntity:
            endEntity(isOrig: isOriginator)
        case .messageDone(let length):
            messageDone(bodyLength: length, isOrig: isOriginator)
        case .upgrade:
            break
        }
    }

    func newInfo() -> Info {
        states[slot].transDepth += 1
        return Info(ts: now, transDepth: states[slot].transDepth)
    }

    /// `set_state`: the transaction the direction's events go to, created when missing.
    func withInfo(_ isOrig: Bool, _ body: (inout Info) -> Void) {
        let key = isOrig ? states[slot].currentRequest : states[slot].currentResponse
        var info = takeInfo(key)
        body(&info)
        states[slot].pending[key] = consume info
    }

    /// Moves the transaction `key` out of the pending ones, or makes it. (`?? newInfo()` would copy
    /// the whole `Info`, some twenty references retained and released, on every event.)
    func takeInfo(_ key: UInt64) -> Info {
        if let info = states[slot].pending.removeValue(forKey: key) { return info }
        return newInfo()
    }

    func request(method: [UInt8], uri: [UInt8]) {
        var s = states[slot]
        if s.currentRequest < s.currentResponse {
            weirds.append(.httpResponseBeforeRequest)
            s.currentRequest = s.currentResponse
        }
        if s.pending.count > Self.maxPendingRequests {
            weirds.append(.httpExcessivePipelining)
            if s.currentResponse == 0 { s.currentResponse += 1 }
            while s.currentResponse < s.currentRequest {
                if let info = s.pending.removeValue(forKey: s.currentResponse) { finish(info) }
                s.currentResponse += 1
            }
        }
        s.currentRequest += 1
        states[slot] = s
        withInfo(true) { info in
            info.method = method
            info.uri = unescapeURI(uri)
        }
    }

    func reply(version: [UInt8], code: UInt16, reason: [UInt8]) {
        // The status of the current response, read in place (a lookup by subscript copies the `Info`).
        let current = states[slot].pending.index(forKey: states[slot].currentResponse)
        if let current {
            if let c = states[slot].pending.values[current].statusCode, !(100...199).contains(c) {
                states[slot].currentResponse += 1
            }
        } else {
            states[slot].currentResponse += 1
        }
        withInfo(false) { info in
            info.statusCode = code
            info.statusMessage = reason
            info.version = version
            if (100...199).contains(code) {
                info.infoCode = code
                info.infoMessage = reason
            }
        }
    }

    func header(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, depth: Int, isOrig: Bool) {
        let v = value.count > Self.maxFieldLength
            ? Array(UnsafeRawBufferPointer(rebasing: value[0..<Self.maxFieldLength])) : Array(value)
        withInfo(isOrig) { info in
            if isOrig {
                if Self.named(name, "REFERER") {
                    info.referrer = v
                } else if Self.named(name, "HOST") {
                    info.host = v
                } else if Self.named(name, "RANGE") {
                    info.rangeRequest = true
                } else if Self.named(name, "ORIGIN") {
                    info.origin = v
                } else if Self.named(name, "USER-AGENT") {
                    info.userAgent = v
                } else if Self.proxyHeaders.contains(where: { Self.named(name, $0) }) {
                    var entry = Array(name)
                    entry.append(contentsOf: " -> ".utf8)
                    entry.append(contentsOf: v)
                    if !info.proxied.contains(entry) { info.proxied.append(entry) }
                } else if Self.named(name, "AUTHORIZATION") || Self.named(name, "PROXY-AUTHORIZATION") {
                    Self.basicAuth(v, into: &info)
                }
            }
            // entities.zeek: a filename from Content-Disposition (or a Content-Type `name=`).
            if Self.named(name, "CONTENT-DISPOSITION") || Self.named(name, "CONTENT-TYPE") {
                if let f = Self.filename(v, disposition: Self.named(name, "CONTENT-DISPOSITION")) {
                    info.entityFilename = f
                }
            }
        }
    }

    func entityData(_ data: UnsafeRawBufferPointer, offset: UInt64, isOrig: Bool) {
        var open = isOrig ? states[slot].origFile : states[slot].respFile
        if open == nil {
            let key = isOrig ? states[slot].currentRequest : states[slot].currentResponse
            var info = takeInfo(key)
            let partial = !isOrig && info.rangeRequest && info.statusCode == 206
            let fuid = files.fuid(handle: handle(info, isOrig: isOrig, range: partial))
            let isNew = files.attach(
                fuid, source: "HTTP", depth: 0, isOrig: isOrig, filename: info.entityFilename,
                connection: connection, now: now)
            if states[slot].pendingSize > 0 && !isOrig {
                files.setSize(fuid, states[slot].pendingSize)
            }
            if isNew {
                if isOrig {
                    if info.origFuids.count < Self.maxFilesPerSide {
                        info.origFuids.append(fuid)
                        if let f = info.entityFilename { info.origFilenames.append(f) }
                    }
                } else if info.respFuids.count < Self.maxFilesPerSide {
                    info.respFuids.append(fuid)
                    if let f = info.entityFilename { info.respFilenames.append(f) }
                }
            }
            states[slot].pending[key] = consume info
            open = OpenFile(fuid: fuid, transaction: key, partial: partial)
            if isOrig { states[slot].origFile = open } else { states[slot].respFile = open }
        }
        guard let open else { return }
        if let sniffed = files.data(open.fuid, data, offset: offset, now: now) {
            addMimeType(sniffed, file: open, isOrig: isOrig)
        }
    }

    func addMimeType(_ mime: StaticString?, file: OpenFile, isOrig: Bool) {
        guard let mime, var info = states[slot].pending.removeValue(forKey: file.transaction) else { return }
        if isOrig {
            if info.origMimeTypes.count < Self.maxFilesPerSide { info.origMimeTypes.append(mime) }
        } else if info.respMimeTypes.count < Self.maxFilesPerSide {
            info.respMimeTypes.append(mime)
        }
        states[slot].pending[file.transaction] = consume info
    }

    func endEntity(isOrig: Bool) {
        guard let open = isOrig ? states[slot].origFile : states[slot].respFile else { return }
        if let sniffed = files.sniffIfNeeded(open.fuid) { addMimeType(sniffed, file: open, isOrig: isOrig) }
        // The pieces of a range request stay one open file (Zeek leaves it to time out).
        if !open.partial { files.end(open.fuid) }
        if isOrig { states[slot].origFile = nil } else { states[slot].respFile = nil }
    }

    func messageDone(bodyLength: UInt64, isOrig: Bool) {
        states[slot].pendingSize = 0
        var written = false
        withInfo(isOrig) { info in
            if isOrig {
                info.requestBodyLength = bodyLength
            } else {
                info.responseBodyLength = bodyLength
                if !(info.statusCode.map { (100...199).contains($0) } ?? false) {
                    finish(info)
                    written = true
                }
            }
        }
        if written { states[slot].pending.removeValue(forKey: states[slot].currentResponse) }
    }

    /// The connection is removed: pending transactions are written (`finalize_http`). Call
    /// after ``begin(slot:uid:originator:originatorPort:responder:responderPort:startTime:now:)``
    /// and after the analyzer finished its open messages.
    public func connectionEnded(slot: UInt32) {
        let s = Int(slot)
        for key in states[s].pending.keys.sorted() where key != 0 {
            if let info = states[s].pending[key] { finish(info) }
        }
        for f in [states[s].origFile, states[s].respFile] {
            if let f, !f.partial { files.end(f.fuid) }
        }
        states[s] = State()
    }

    func finish(_ info: Info) {
        finished.append(info)
        finishedConnection.append(connection)
    }

    // MARK: - File handles (files.zeek's `get_file_handle`)

    func handle(_ info: Info, isOrig: Bool, range: Bool) -> [UInt8] {
        var h: [UInt8] = Array("Analyzer::ANALYZER_HTTP".utf8)
        h.append(isOrig ? 0x54 : 0x46)
        if range {
            h.append(contentsOf: "\(connection.originator)".utf8)
            h.append(contentsOf: info.host ?? [])
            h.append(contentsOf: info.uri ?? [])
        } else {
            h.append(contentsOf: "\(startTime.nanoseconds)".utf8)
            h.append(contentsOf: "\(info.transDepth)-\(isOrig ? info.origMimeDepth : info.respMimeDepth)".utf8)
            h.append(contentsOf: "\(connection.originator):\(connection.originatorPort)".utf8)
            h.append(contentsOf: "\(connection.responder):\(connection.responderPort)".utf8)
        }
        return h
    }

    // MARK: - Helpers

    /// Zeek's `unescape_URI` (`HTTP.cc`): `%XX` becomes the byte it names. A `%` not followed by
    /// two hex digits stays as it is (`unescaped_%_in_URI`, or `illegal_%_at_end_of_URI` when
    /// fewer than two bytes follow).
    func unescapeURI(_ uri: [UInt8]) -> [UInt8] {
        guard uri.contains(0x25) else { return uri }
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case 0x30...0x39: b - 0x30
            case 0x41...0x46: b - 0x41 + 10
            case 0x61...0x66: b - 0x61 + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(uri.count)
        var i = 0
        while i < uri.count {
            let b = uri[i]
            guard b == 0x25 else {
                out.append(b)
                i += 1
                continue
            }
            if i + 2 >= uri.count {
                weirds.append(.illegalPercentAtEndOfURI)
                out.append(contentsOf: uri[i...])
                break
            }
            if let hi = hex(uri[i + 1]), let lo = hex(uri[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                weirds.append(.unescapedPercentInURI)
                out.append(b)
                i += 1
            }
        }
        return out
    }

    static func named(_ name: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        name.count == s.utf8CodeUnitCount && name.elementsEqual(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// main.zeek's Basic-auth handling: `Basic <base64 user:pass>`. The password is kept only
    /// when `HTTP::default_capture_password` is set, which it is not by default.
    static func basicAuth(_ value: [UInt8], into info: inout Info) {
        guard value.count > 6, value[0..<6].map({ $0 | 0x20 }).elementsEqual("basic ".utf8) else { return }
        var i = 6
        while i < value.count && (value[i] == 0x20 || value[i] == 0x09) { i += 1 }
        guard let decoded = Data(base64Encoded: Data(value[i...]), options: .ignoreUnknownCharacters) else { return }
        let bytes = [UInt8](decoded)
        if let colon = bytes.firstIndex(of: 0x3A) {
            info.username = Array(bytes[..<colon])
        } else {
            var name = Array("<problem-decoding> (".utf8)
            name.append(contentsOf: value)
            name.append(0x29)
            info.username = name
        }
    }

    /// `extract_filename_from_content_disposition` (base/utils/files.zeek): the `filename=` (or
    /// `name=` of a Content-Type) parameter, without quotes.
    static func filename(_ value: [UInt8], disposition: Bool) -> [UInt8]? {
        let lower = value.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        let key: [UInt8] = Array((disposition ? "filename" : "name").utf8)
        var i = 0
        while i + key.count <= lower.count {
            if lower[i..<(i + key.count)].elementsEqual(key) && (i == 0 || !isNameByte(lower[i - 1])) {
                var j = i + key.count
                if j < lower.count && lower[j] == 0x2A { j += 1 }
                while j < lower.count && (lower[j] == 0x20 || lower[j] == 0x09) { j += 1 }
                if j < lower.count && lower[j] == 0x3D {
                    j += 1
                    while j < value.count && (value[j] == 0x20 || value[j] == 0x09) { j += 1 }
                    var e = j
                    if j < value.count && value[j] == 0x22 {
                        j += 1
                        e = j
                        while e < value.count && value[e] != 0x22 { e += 1 }
                    } else {
                        while e < value.count && value[e] != 0x3B { e += 1 }
                    }
                    return Array(value[j..<e])
                }
            }
            i += 1
        }
        return nil
    }

    static func isNameByte(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F }

    // MARK: - Records

    /// Writes finished transactions and ended files.
    public func flush(into logs: inout LogStreams) {
        // Called after every delivery; most have finished nothing.
        if !finished.isEmpty {
            for i in finished.indices { write(finished[i], connection: finishedConnection[i], logs: &logs) }
            finished.removeAll(keepingCapacity: true)
            finishedConnection.removeAll(keepingCapacity: true)
        }
        files.flush(into: &logs)
    }

    func write(_ info: Info, connection c: FilesLog.ConnectionRef, logs: inout LogStreams) {
        var r = record
        r.reset()
        r.time(info.ts)
        r.uid(c.uid)
        r.addr(c.originator)
        r.port(c.originatorPort)
        r.addr(c.responder)
        r.port(c.responderPort)
        r.count(info.transDepth)
        Self.optional(info.method, &r)
        Self.optional(info.host, &r)
        Self.optional(info.uri, &r)
        Self.optional(info.referrer, &r)
        Self.optional(info.version, &r)
        Self.optional(info.userAgent, &r)
        Self.optional(info.origin, &r)
        r.count(info.requestBodyLength)
        r.count(info.responseBodyLength)
        if let code = info.statusCode { r.count(UInt64(code)) } else { r.unset() }
        Self.optional(info.statusMessage, &r)
        if let code = info.infoCode { r.count(UInt64(code)) } else { r.unset() }
        Self.optional(info.infoMessage, &r)
        r.beginSet(count: 0)
        Self.optional(info.username, &r)
        Self.optional(info.password, &r)
        if info.proxied.isEmpty {
            r.unset()
        } else {
            r.beginSet(count: info.proxied.count)
            for p in info.proxied { p.withUnsafeBytes { r.string($0) } }
        }
        Self.fuids(info.origFuids, &r)
        Self.strings(info.origFilenames, &r)
        Self.mimeTypes(info.origMimeTypes, &r)
        Self.fuids(info.respFuids, &r)
        Self.strings(info.respFilenames, &r)
        Self.mimeTypes(info.respMimeTypes, &r)
        logs.write(r)
        record = r
        records &+= 1
    }

    static func optional(_ v: [UInt8]?, _ r: inout LogRecordEncoder) {
        if let v { v.withUnsafeBytes { r.string($0) } } else { r.unset() }
    }

    static func fuids(_ v: [ConnectionUID], _ r: inout LogRecordEncoder) {
        guard !v.isEmpty else { return r.unset() }
        r.beginVector(count: v.count)
        for f in v { r.uid(f, prefix: "F") }
    }

    static func strings(_ v: [[UInt8]], _ r: inout LogRecordEncoder) {
        guard !v.isEmpty else { return r.unset() }
        r.beginVector(count: v.count)
        for s in v { s.withUnsafeBytes { r.string($0) } }
    }

    static func mimeTypes(_ v: [StaticString], _ r: inout LogRecordEncoder) {
        guard !v.isEmpty else { return r.unset() }
        r.beginVector(count: v.count)
        for s in v { r.string(s) }
    }
}

/// Weirds of Zeek's HTTP policy script (`base/protocols/http/main.zeek`).
extension Weird {
    static let httpResponseBeforeRequest = Weird("HTTP_response_before_request", source: "HTTP")
    static let httpExcessivePipelining = Weird("HTTP_excessive_pipelining", source: "HTTP")
    static let illegalPercentAtEndOfURI = Weird("illegal_%_at_end_of_URI", source: "HTTP")
    static let unescapedPercentInURI = Weird("unescaped_%_in_URI", source: "HTTP")
}
