// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Named limits of the HTTP parser (style.md §4.4). Each bounds memory per direction.
public struct HTTPLimits: Sendable {
    /// Longest line kept (request/status line, header, chunk size, multipart line). Zeek's
    /// content-line splitter emits what it has and raises `contentline_size_exceeded` at its
    /// buffer limit; so does this parser.
    public var maxLineLength = 16 * 1024
    /// Headers per message; later ones are dropped and counted.
    public var maxHeaders = 256
    /// Decompressed bytes per entity; past it the body is no longer decompressed (a
    /// decompression bomb costs bounded work) and the rest is counted, not delivered.
    public var maxDecompressedBytes: UInt64 = 64 * 1024 * 1024
    /// Request methods remembered for replies not yet seen (Zeek's `HTTP::max_pending_requests`).
    public var maxPendingRequests = 100

    public init() {}
}

/// The incremental HTTP/1.x parser for one direction of one connection: request or status line,
/// headers (with folding), then the body framed by `Content-Length`, chunked transfer coding
/// or the connection's end, decoded from gzip/deflate and split into MIME parts for
/// `multipart/*` bodies, as Zeek's `HTTP_Analyzer`/`HTTP_Entity`/`MIME_Entity` do.
///
/// It is fed borrowed stream chunks of any size (``feed(_:sink:)``) and reports typed events to
/// a generic sink, so a message split at any byte gives the same events. Buffers keep their
/// capacity between messages; nothing is allocated per segment once a connection's line
/// buffers have grown to its longest line (bounded by ``HTTPLimits/maxLineLength``).
public struct HTTPParser {
    enum State: UInt8 {
        case firstLine, headers, body, untilClose, chunkSize, chunkData, chunkDataEnd, trailers, ignore
    }

    /// Request flags a reply needs to frame its body.
    struct RequestFlags: OptionSet {
        let rawValue: UInt8
        static let head = RequestFlags(rawValue: 1)
        static let connect = RequestFlags(rawValue: 2)
    }

    let isOriginator: Bool
    let limits: HTTPLimits
    var state = State.firstLine
    var line: [UInt8] = []
    var header: [UInt8] = []
    var headerNameLength = -1
    var headerCount = 0
    /// Headers dropped by ``HTTPLimits/maxHeaders``.
    public private(set) var droppedHeaders: UInt64 = 0
    /// Bytes not decompressed because of ``HTTPLimits/maxDecompressedBytes``.
    public private(set) var undecompressedBytes: UInt64 = 0

    // The current message.
    var contentLength: Int64 = -1
    var chunked = false
    var gzip = false
    var deflate = false
    var boundary: [UInt8] = []
    var remaining: UInt64 = 0
    var bodyLength: UInt64 = 0
    var decompressed: UInt64 = 0
    var entityOffset: UInt64 = 0
    var rangeStart: UInt64 = 0
    var rangeLength: Int64 = -1
    var instanceLength: UInt64 = 0
    var inflater: Inflater?
    var version11 = false

    // Replies: what the pending requests were, and this reply's status code.
    var pendingRequests: [RequestFlags] = []
    /// Requests this (originator) parser saw since the analyzer last moved them to the reply
    /// parser (``expect(_:)``).
    var requestsSeen: [RequestFlags] = []
    var code: UInt16 = 0
    var currentRequest = RequestFlags()

    // Multipart body state.
    var partLine: [UInt8] = []
    var partOpen = false
    var partHeaders = false
    var partFirstLine = true
    var partDone = false
    var partDepth = 0

    /// A parser for the originator's (requests) or the responder's (replies) direction.
    public init(isOriginator: Bool, limits: HTTPLimits = HTTPLimits()) {
        self.isOriginator = isOriginator
        self.limits = limits
        line.reserveCapacity(256)
    }

    /// Request or status lines parsed so far (the analyzer confirms HTTP on the first).
    public private(set) var linesParsed: UInt64 = 0

    /// True once the direction stopped being parsed (violation, upgrade, unrecoverable gap).
    public var isIgnoring: Bool { state == .ignore }

    // MARK: - Input

    /// Parses the next bytes of the direction, in stream order.
    public mutating func feed<S: HTTPEventSink>(_ data: UnsafeRawBufferPointer, sink: inout S) {
        var i = 0
        let n = data.count
        while i < n {
            switch state {
            case .ignore:
                return
            case .body, .chunkData:
                let take = Int(min(remaining, UInt64(n - i)))
                deliverBody(UnsafeRawBufferPointer(rebasing: data[i..<(i + take)]), sink: &sink)
                i += take
                remaining -= UInt64(take)
                if remaining == 0 {
                    if state == .body {
                        endMessage(sink: &sink)
                    } else {
                        state = .chunkDataEnd
                    }
                }
            case .untilClose:
                deliverBody(UnsafeRawBufferPointer(rebasing: data[i..<n]), sink: &sink)
                i = n
            case .firstLine, .headers, .chunkSize, .chunkDataEnd, .trailers:
                var j = i
                while j < n && data[j] != 0x0A { j += 1 }
                let piece = UnsafeRawBufferPointer(rebasing: data[i..<j])
                if line.count + piece.count > limits.maxLineLength {
                    let room = max(0, limits.maxLineLength - line.count)
                    line.append(contentsOf: UnsafeRawBufferPointer(rebasing: piece[0..<room]))
                    sink.httpWeird(.contentLineSizeExceeded)
                    i += room
                    completeLine(sink: &sink)
                    continue
                }
                line.append(contentsOf: piece)
                if j == n { return }
                i = j + 1
                completeLine(sink: &sink)
            }
        }
    }

    /// `length` bytes of the direction were lost. Inside a body of known length the body
    /// continues after them (the file records missing bytes); anywhere else the direction can
    /// no longer be framed and is ignored from here on, as in Zeek.
    public mutating func gap<S: HTTPEventSink>(length: UInt64, sink: inout S) {
        let inBody = state == .body || state == .chunkData
        switch state {
        case _ where inBody && remaining >= length && boundary.isEmpty && inflater == nil:
            sink.http(.entityGap(length: length, offset: rangeStart + entityOffset), isOriginator: isOriginator)
            entityOffset += length
            bodyLength += length
            remaining -= length
            if remaining == 0 {
                if state == .body { endMessage(sink: &sink) } else { state = .chunkDataEnd }
            }
        default:
            state = .ignore
        }
    }

    /// The connection ended: a message still open is finished (Zeek's `HTTP_Message::Done` at
    /// the end of the connection raises `http_message_done` for it).
    public mutating func finish<S: HTTPEventSink>(sink: inout S) {
        switch state {
        case .headers:
            if headerNameLength >= 0 { flushHeader(sink: &sink) }
            endMessage(sink: &sink)
        case .body, .untilClose, .chunkSize, .chunkData, .chunkDataEnd, .trailers:
            endMessage(sink: &sink)
        case .firstLine, .ignore:
            break
        }
        state = .ignore
    }

    /// Queues requests for this (responder) parser's replies.
    mutating func expect(_ requests: [RequestFlags]) {
        pendingRequests.append(contentsOf: requests)
        if pendingRequests.count > limits.maxPendingRequests {
            pendingRequests.removeFirst(pendingRequests.count - limits.maxPendingRequests)
        }
    }

    // MARK: - Lines

    mutating func completeLine<S: HTTPEventSink>(sink: inout S) {
        if line.last == 0x0D { line.removeLast() }
        switch state {
        case .firstLine:
            if !line.isEmpty {
                if isOriginator { requestLine(sink: &sink) } else { statusLine(sink: &sink) }
            }
        case .headers:
            headerLine(sink: &sink)
        case .chunkSize:
            chunkSizeLine(sink: &sink)
        case .chunkDataEnd:
            state = .chunkSize
        case .trailers:
            if line.isEmpty { endMessage(sink: &sink) }
        default:
            break
        }
        line.removeAll(keepingCapacity: true)
    }

    mutating func requestLine<S: HTTPEventSink>(sink: inout S) {
        line.withUnsafeBytes { l in
            // method SP URI [SP HTTP/x.y]; Zeek accepts only letters in the method.
            var m = 0
            while m < l.count && Self.isLetter(l[m]) { m += 1 }
            guard m > 0, m < l.count, l[m] == 0x20 || l[m] == 0x09 else {
                sink.httpWeird(.httpBadRequest)
                state = .ignore
                return
            }
            var u = m
            while u < l.count && (l[u] == 0x20 || l[u] == 0x09) { u += 1 }
            var e = l.count
            var version = UnsafeRawBufferPointer(start: nil, count: 0)
            // The version is the last word when it reads `HTTP/…`.
            var s = l.count
            while s > u && l[s - 1] != 0x20 && l[s - 1] != 0x09 { s -= 1 }
            if s > u && l.count - s > 5 && Self.hasPrefixHTTP(UnsafeRawBufferPointer(rebasing: l[s..<l.count])) {
                version = UnsafeRawBufferPointer(rebasing: l[(s + 5)..<l.count])
                e = s
                while e > u && (l[e - 1] == 0x20 || l[e - 1] == 0x09) { e -= 1 }
            }
            let method = UnsafeRawBufferPointer(rebasing: l[0..<m])
            var flags = RequestFlags()
            if Self.equals(method, "HEAD") { flags.insert(.head) }
            if Self.equals(method, "CONNECT") { flags.insert(.connect) }
            requestsSeen.append(flags)
            linesParsed &+= 1
            version11 = version.count == 3 && version[0] == 0x31 && version[2] == 0x31
            let v09: StaticString = "0.9"
            let versionBytes = version.baseAddress == nil
                ? UnsafeRawBufferPointer(start: v09.utf8Start, count: v09.utf8CodeUnitCount) : version
            sink.http(
                .request(method: method, uri: UnsafeRawBufferPointer(rebasing: l[u..<e]), version: versionBytes),
                isOriginator: true)
        }
        guard state != .ignore else { return }
        beginMessage(sink: &sink)
    }

    mutating func statusLine<S: HTTPEventSink>(sink: inout S) {
        var ok = false
        line.withUnsafeBytes { l in
            guard l.count >= 8, Self.hasPrefixHTTP(l) else { return }
            var v = 5
            while v < l.count && l[v] != 0x20 && l[v] != 0x09 { v += 1 }
            let version = UnsafeRawBufferPointer(rebasing: l[5..<v])
            var c = v
            while c < l.count && (l[c] == 0x20 || l[c] == 0x09) { c += 1 }
            var value: UInt16 = 0
            var digits = 0
            while c < l.count && digits < 3 && l[c] >= 0x30 && l[c] <= 0x39 {
                value = value * 10 + UInt16(l[c] - 0x30)
                c += 1
                digits += 1
            }
            guard digits == 3 else { return }
            while c < l.count && (l[c] == 0x20 || l[c] == 0x09) { c += 1 }
            ok = true
            linesParsed &+= 1
            code = value
            version11 = version.count == 3 && version[0] == 0x31 && version[2] == 0x31
            let empty: StaticString = "<empty>"
            let reason = c < l.count
                ? UnsafeRawBufferPointer(rebasing: l[c..<l.count])
                : UnsafeRawBufferPointer(start: empty.utf8Start, count: empty.utf8CodeUnitCount)
            sink.http(.reply(version: version, code: value, reason: reason), isOriginator: false)
        }
        guard ok else {
            sink.httpWeird(.httpBadReply)
            state = .ignore
            return
        }
        // A final reply answers the oldest pending request; 1xx replies precede it.
        if code >= 200 || code < 100 {
            currentRequest = pendingRequests.isEmpty ? [] : pendingRequests.removeFirst()
        }
        beginMessage(sink: &sink)
    }

    mutating func beginMessage<S: HTTPEventSink>(sink: inout S) {
        contentLength = -1
        chunked = false
        gzip = false
        deflate = false
        boundary.removeAll(keepingCapacity: true)
        bodyLength = 0
        decompressed = 0
        entityOffset = 0
        rangeStart = 0
        rangeLength = -1
        instanceLength = 0
        headerCount = 0
        headerNameLength = -1
        header.removeAll(keepingCapacity: true)
        state = .headers
        sink.http(.beginEntity(depth: 0), isOriginator: isOriginator)
    }

    mutating func headerLine<S: HTTPEventSink>(sink: inout S) {
        if line.isEmpty {
            if headerNameLength >= 0 { flushHeader(sink: &sink) }
            endOfHeaders(sink: &sink)
            return
        }
        if (line[0] == 0x20 || line[0] == 0x09) && headerNameLength >= 0 {
            // A folded continuation: joined with one space.
            var k = 0
            while k < line.count && (line[k] == 0x20 || line[k] == 0x09) { k += 1 }
            if header.count + line.count - k < limits.maxLineLength {
                header.append(0x20)
                header.append(contentsOf: line[k...])
            }
            return
        }
        if headerNameLength >= 0 { flushHeader(sink: &sink) }
        guard let colon = line.firstIndex(of: 0x3A) else { return }
        header.removeAll(keepingCapacity: true)
        var nameEnd = colon
        while nameEnd > 0 && (line[nameEnd - 1] == 0x20 || line[nameEnd - 1] == 0x09) { nameEnd -= 1 }
        for b in line[0..<nameEnd] { header.append(b >= 0x61 && b <= 0x7A ? b - 0x20 : b) }
        headerNameLength = nameEnd
        var v = colon + 1
        while v < line.count && (line[v] == 0x20 || line[v] == 0x09) { v += 1 }
        header.append(contentsOf: line[v...])
    }

    mutating func flushHeader<S: HTTPEventSink>(sink: inout S) {
        defer { headerNameLength = -1 }
        headerCount += 1
        guard headerCount <= limits.maxHeaders else {
            droppedHeaders &+= 1
            return
        }
        // Trailing blanks are not part of the value.
        while let last = header.last, header.count > headerNameLength, last == 0x20 || last == 0x09 {
            header.removeLast()
        }
        let nameLength = headerNameLength
        header.withUnsafeBytes { h in
            let name = UnsafeRawBufferPointer(rebasing: h[0..<nameLength])
            let value = UnsafeRawBufferPointer(rebasing: h[nameLength..<h.count])
            sink.http(.header(name: name, value: value, depth: 0), isOriginator: isOriginator)
            interpret(name: name, value: value, sink: &sink)
        }
    }

    /// The headers that frame and decode the body (`HTTP_Entity::SubmitHeader`).
    mutating func interpret<S: HTTPEventSink>(
        name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, sink: inout S
    ) {
        if Self.equals(name, "CONTENT-LENGTH") {
            var n: Int64 = 0
            var digits = 0
            for b in value {
                guard b >= 0x30 && b <= 0x39, n < Int64.max / 10 - 10 else { break }
                n = n * 10 + Int64(b - 0x30)
                digits += 1
            }
            contentLength = digits > 0 ? n : 0
            if rangeLength >= 0 && rangeLength != contentLength {
                sink.httpWeird(.httpRangeNotMatchingLength)
                contentLength = max(contentLength, rangeLength)
            }
        } else if Self.equals(name, "TRANSFER-ENCODING") {
            // Zeek honours chunked coding only on HTTP/1.1 messages.
            if Self.firstToken(value, equals: "chunked") && version11 { chunked = true }
        } else if Self.equals(name, "CONTENT-ENCODING") {
            if Self.firstToken(value, equals: "gzip") || Self.firstToken(value, equals: "x-gzip") { gzip = true }
            if Self.firstToken(value, equals: "deflate") { deflate = true }
        } else if Self.equals(name, "CONTENT-TYPE") {
            if Self.hasPrefix(value, "multipart/"), let b = Self.parameter(value, "boundary"), !b.isEmpty {
                boundary = b
            }
        } else if Self.equals(name, "CONTENT-RANGE") && !isOriginator && code == 206 {
            contentRange(value, sink: &sink)
        }
    }

    /// `Content-Range: bytes first-last/size` of a 206 reply: where the body sits in the file.
    mutating func contentRange<S: HTTPEventSink>(_ value: UnsafeRawBufferPointer, sink: inout S) {
        guard Self.hasPrefix(value, "bytes") else {
            sink.httpWeird(.httpContentRangeUnknownUnit)
            return
        }
        var numbers: [UInt64] = [0, 0, 0]
        var index = 0
        var seen = [false, false, false]
        var star = false
        for b in value.dropFirst(5) {
            switch b {
            case 0x30...0x39:
                numbers[index] = numbers[index] &* 10 &+ UInt64(b - 0x30)
                seen[index] = true
            case 0x2D where index == 0: index = 1
            case 0x2F where index == 1: index = 2
            case 0x2A where index == 2: star = true
            case 0x20, 0x09: continue
            default:
                sink.httpWeird(.httpContentRangeCannotParse)
                return
            }
        }
        guard index == 2, seen[0], seen[1], numbers[1] >= numbers[0] else {
            sink.httpWeird(.httpContentRangeCannotParse)
            return
        }
        rangeStart = numbers[0]
        rangeLength = Int64(clamping: numbers[1] - numbers[0] + 1)
        instanceLength = star ? 0 : numbers[2]
        if contentLength > 0 && contentLength != rangeLength {
            sink.httpWeird(.httpRangeNotMatchingLength)
            contentLength = max(contentLength, rangeLength)
        } else if contentLength < 0 {
            contentLength = rangeLength
        }
    }

    mutating func endOfHeaders<S: HTTPEventSink>(sink: inout S) {
        if instanceLength > 0 { sink.http(.entitySize(instanceLength), isOriginator: isOriginator) }
        let noBody: Bool
        if isOriginator {
            noBody = contentLength < 0 && !chunked
        } else {
            // A 2xx to CONNECT turns the connection into a tunnel right after the headers.
            noBody = (code >= 100 && code < 200) || code == 204 || code == 304 || currentRequest.contains(.head)
                || (currentRequest.contains(.connect) && code >= 200 && code < 300)
        }
        if noBody {
            endMessage(sink: &sink)
            return
        }
        if !boundary.isEmpty {
            if chunked { sink.httpWeird(.httpChunkedMultipart) }
            partLine.removeAll(keepingCapacity: true)
            partOpen = false
            partDone = false
            partDepth = 0
        }
        if gzip || deflate { inflater = Inflater(gzip: gzip) }
        if chunked {
            state = .chunkSize
        } else if contentLength > 0 {
            remaining = UInt64(contentLength)
            state = .body
        } else if contentLength == 0 {
            endMessage(sink: &sink)
        } else {
            state = .untilClose
        }
    }

    mutating func chunkSizeLine<S: HTTPEventSink>(sink: inout S) {
        var size: UInt64 = 0
        var digits = 0
        for b in line {
            let d: UInt8
            switch b {
            case 0x30...0x39: d = b - 0x30
            case 0x41...0x46: d = b - 0x41 + 10
            case 0x61...0x66: d = b - 0x61 + 10
            default: d = 0xFF
            }
            guard d != 0xFF else { break }
            guard size >> 56 == 0 else { break }
            size = size << 4 | UInt64(d)
            digits += 1
        }
        if digits == 0 {
            sink.httpWeird(.httpBadChunkSize)
            size = 0
        }
        if size == 0 {
            state = .trailers
        } else {
            remaining = size
            state = .chunkData
        }
    }

    // MARK: - Bodies

    mutating func deliverBody<S: HTTPEventSink>(_ data: UnsafeRawBufferPointer, sink: inout S) {
        guard data.count > 0 else { return }
        if let inflater {
            if decompressed >= limits.maxDecompressedBytes {
                undecompressedBytes &+= UInt64(data.count)
                return
            }
            let ok = inflater.feed(data) { chunk in
                decompressed &+= UInt64(chunk.count)
                deliverDecoded(chunk, sink: &sink)
            }
            if !ok { sink.httpWeird(.inflateFailed) }
        } else {
            deliverDecoded(data, sink: &sink)
        }
    }

    mutating func deliverDecoded<S: HTTPEventSink>(_ data: UnsafeRawBufferPointer, sink: inout S) {
        guard data.count > 0 else { return }
        bodyLength &+= UInt64(data.count)
        if boundary.isEmpty {
            sink.http(.entityData(data, offset: rangeStart + entityOffset), isOriginator: isOriginator)
            entityOffset &+= UInt64(data.count)
            return
        }
        // Multipart: split into lines (a MIME body is line-oriented) and route them.
        var i = 0
        while i < data.count {
            var j = i
            while j < data.count && data[j] != 0x0A { j += 1 }
            let piece = UnsafeRawBufferPointer(rebasing: data[i..<j])
            if partLine.count + piece.count > limits.maxLineLength {
                // A very long line (binary part data): hand on what is buffered as part data.
                partLine.append(contentsOf: piece)
                flushLongPartLine(sink: &sink)
                i = j
                continue
            }
            partLine.append(contentsOf: piece)
            if j == data.count { return }
            i = j + 1
            if partLine.last == 0x0D { partLine.removeLast() }
            partLineComplete(sink: &sink)
            partLine.removeAll(keepingCapacity: true)
        }
    }

    mutating func flushLongPartLine<S: HTTPEventSink>(sink: inout S) {
        if partOpen && !partHeaders && !partDone {
            if !partFirstLine { emitPartData(Self.crlf, sink: &sink) }
            partLine.withUnsafeBytes { emitPartData($0, sink: &sink) }
            // The line goes on: its continuation must not get a line break in front.
            partFirstLine = true
        }
        partLine.removeAll(keepingCapacity: true)
    }

    static let crlfText: StaticString = "\r\n"
    static var crlf: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: crlfText.utf8Start, count: 2) }

    mutating func emitPartData<S: HTTPEventSink>(_ data: UnsafeRawBufferPointer, sink: inout S) {
        sink.http(.entityData(data, offset: entityOffset), isOriginator: isOriginator)
        entityOffset &+= UInt64(data.count)
    }

    mutating func partLineComplete<S: HTTPEventSink>(sink: inout S) {
        guard !partDone else { return }
        let isBoundary = partLine.count >= boundary.count + 2 && partLine[0] == 0x2D && partLine[1] == 0x2D
            && partLine[2..<(2 + boundary.count)].elementsEqual(boundary)
        if isBoundary {
            let rest = partLine[(2 + boundary.count)...]
            if partOpen {
                sink.http(.endEntity, isOriginator: isOriginator)
                partOpen = false
            }
            if rest.starts(with: [0x2D, 0x2D]) {
                partDone = true
                return
            }
            partOpen = true
            partHeaders = true
            partFirstLine = true
            partDepth += 1
            entityOffset = 0
            sink.http(.beginEntity(depth: partDepth), isOriginator: isOriginator)
            return
        }
        guard partOpen else { return }
        if partHeaders {
            if partLine.isEmpty {
                partHeaders = false
                return
            }
            guard let colon = partLine.firstIndex(of: 0x3A) else { return }
            var name = Array(partLine[0..<colon])
            while let last = name.last, last == 0x20 || last == 0x09 { name.removeLast() }
            for k in name.indices where name[k] >= 0x61 && name[k] <= 0x7A { name[k] -= 0x20 }
            var v = colon + 1
            while v < partLine.count && (partLine[v] == 0x20 || partLine[v] == 0x09) { v += 1 }
            let value = Array(partLine[v...])
            name.withUnsafeBytes { n in
                value.withUnsafeBytes { val in
                    sink.http(.header(name: n, value: val, depth: partDepth), isOriginator: isOriginator)
                }
            }
            return
        }
        if !partFirstLine { emitPartData(Self.crlf, sink: &sink) }
        partFirstLine = false
        partLine.withUnsafeBytes { emitPartData($0, sink: &sink) }
    }

    mutating func endMessage<S: HTTPEventSink>(sink: inout S) {
        if !boundary.isEmpty && partOpen {
            sink.http(.endEntity, isOriginator: isOriginator)
            partOpen = false
        }
        inflater = nil
        sink.http(.endEntity, isOriginator: isOriginator)
        sink.http(.messageDone(bodyLength: bodyLength), isOriginator: isOriginator)
        state = .firstLine
        if !isOriginator && (code == 101 || (currentRequest.contains(.connect) && code >= 200 && code < 300)) {
            sink.http(.upgrade, isOriginator: false)
            state = .ignore
        }
    }

    // MARK: - Byte helpers

    @inline(__always)
    static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }

    static func hasPrefixHTTP(_ b: UnsafeRawBufferPointer) -> Bool {
        b.count >= 5 && b[0] == 0x48 && b[1] == 0x54 && b[2] == 0x54 && b[3] == 0x50 && b[4] == 0x2F
    }

    /// Case-insensitive equality with an ASCII literal.
    static func equals(_ b: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        guard b.count == s.utf8CodeUnitCount else { return false }
        for k in 0..<b.count where b[k] | 0x20 != s.utf8Start[k] | 0x20 { return false }
        return true
    }

    /// Case-insensitive prefix test with an ASCII literal.
    static func hasPrefix(_ b: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        guard b.count >= s.utf8CodeUnitCount else { return false }
        return equals(UnsafeRawBufferPointer(rebasing: b[0..<s.utf8CodeUnitCount]), s)
    }

    /// Whether the value's first token (up to `;`, `,` or a blank) is `s`, case-insensitively.
    static func firstToken(_ b: UnsafeRawBufferPointer, equals s: StaticString) -> Bool {
        var e = 0
        while e < b.count && b[e] != 0x3B && b[e] != 0x2C && b[e] != 0x20 && b[e] != 0x09 { e += 1 }
        return equals(UnsafeRawBufferPointer(rebasing: b[0..<e]), s)
    }

    /// The value of parameter `key` (`; key=value` or `; key="value"`) in a header value.
    static func parameter(_ b: UnsafeRawBufferPointer, _ key: StaticString) -> [UInt8]? {
        let k = key.utf8CodeUnitCount
        var i = 0
        while i + k < b.count {
            if (i == 0 || b[i - 1] == 0x3B || b[i - 1] == 0x20 || b[i - 1] == 0x09)
                && equals(UnsafeRawBufferPointer(rebasing: b[i..<(i + k)]), key) && b[i + k] == 0x3D
            {
                var v = i + k + 1
                if v < b.count && b[v] == 0x22 {
                    v += 1
                    var e = v
                    while e < b.count && b[e] != 0x22 { e += 1 }
                    return Array(b[v..<e])
                }
                var e = v
                while e < b.count && b[e] != 0x3B && b[e] != 0x20 && b[e] != 0x09 { e += 1 }
                return Array(b[v..<e])
            }
            i += 1
        }
        return nil
    }
}
