// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// One thing the HTTP parser found in a direction's stream: Zeek's `http_request`, `http_reply`,
/// `http_header`, `http_begin_entity`, `http_entity_data`, `http_end_entity` and
/// `http_message_done` events, in the order Zeek raises them.
///
/// Byte payloads are borrowed: valid only during the sink call (copy what must outlive it).
public enum HTTPEvent {
    /// A request line: method, the URI as sent, and the version after `HTTP/` (`0.9` when the
    /// line has none).
    case request(method: UnsafeRawBufferPointer, uri: UnsafeRawBufferPointer, version: UnsafeRawBufferPointer)
    /// A status line: version after `HTTP/`, status code and reason phrase (`<empty>` when the
    /// line has none, as Zeek writes it).
    case reply(version: UnsafeRawBufferPointer, code: UInt16, reason: UnsafeRawBufferPointer)
    /// A header of the message (`depth` 0) or of a MIME part of a multipart body (`depth` ≥ 1).
    /// The name is upper-cased as Zeek's `http_header` gives it; leading blanks of the value
    /// are removed and folded continuation lines joined with a space.
    case header(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, depth: Int)
    /// A MIME entity starts: the message body (`depth` 0) or a part of a multipart body.
    case beginEntity(depth: Int)
    /// Decoded body bytes of the innermost entity (after chunked transfer coding and
    /// gzip/deflate content coding), at `offset` into the file they belong to (non-zero only
    /// for a `206 Partial Content` range).
    case entityData(UnsafeRawBufferPointer, offset: UInt64)
    /// A `206` response announced the range's full resource size (`Content-Range: …/size`).
    case entitySize(UInt64)
    /// `length` bytes of the innermost entity's body were lost in a TCP gap.
    case entityGap(length: UInt64, offset: UInt64)
    /// The innermost entity ended.
    case endEntity
    /// The message ended; `bodyLength` is Zeek's `http_message_stat$body_length`: decoded body
    /// bytes of the whole message.
    case messageDone(bodyLength: UInt64)
    /// A `101 Switching Protocols` reply or a `2xx` reply to `CONNECT`: the rest of the
    /// connection is not HTTP and is not parsed (Zeek's `http_connection_upgrade`).
    case upgrade
}

/// Receives the parser's events. Generic `inout` use keeps the calls direct (no existential).
public protocol HTTPEventSink {
    /// Handles one event of the direction `isOriginator`.
    mutating func http(_ event: HTTPEvent, isOriginator: Bool)
    /// Records a weird for the connection.
    mutating func httpWeird(_ weird: Weird)
}

/// Zeek's HTTP weirds (`src/analyzer/protocol/http/HTTP.cc`, the content-line splitter in
/// `tcp/ContentLine.cc` and the ZIP analyzer in `zip/ZIP.cc`), spelled as there.
extension Weird {
    public static let httpBadChunkSize = Weird("HTTP_bad_chunk_size", source: "HTTP")
    public static let httpChunkedMultipart = Weird("HTTP_chunked_transfer_for_multipart_message", source: "HTTP")
    public static let httpBadRequest = Weird("bad_HTTP_request", source: "HTTP")
    public static let httpBadReply = Weird("bad_HTTP_reply", source: "HTTP")
    public static let httpRangeNotMatchingLength = Weird("HTTP_range_not_matching_len", source: "HTTP")
    public static let httpContentRangeUnknownUnit = Weird("HTTP_content_range_unknown_byte_unit", source: "HTTP")
    public static let httpContentRangeCannotParse = Weird("HTTP_content_range_cannot_parse", source: "HTTP")
    public static let contentLineSizeExceeded = Weird("contentline_size_exceeded", source: "HTTP")
    public static let inflateFailed = Weird("inflate_failed", source: "HTTP")
}
