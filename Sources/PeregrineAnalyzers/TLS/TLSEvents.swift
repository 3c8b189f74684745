// SPDX-License-Identifier: Apache-2.0

/// One event of Zeek's SSL analyzer (`src/analyzer/protocol/ssl/events.bif`), raised while a
/// ``TLSConnection`` parses a direction's bytes.
///
/// Byte payloads are borrowed views into the parser's input or its buffers, valid only during the
/// sink's call: a consumer that keeps a name or a certificate copies it (once per handshake, not
/// per packet). `isClient` follows Zeek: the side that sent the ClientHello is the client.
public enum TLSEvent {
    /// `ssl_client_hello`: the offered version and session id (Zeek's `session_id` string).
    case clientHello(version: UInt16, sessionID: UnsafeRawBufferPointer)
    /// `ssl_server_hello`: the chosen version, cipher suite and session id; `helloRetry` is true
    /// when the random is RFC 8446's HelloRetryRequest value.
    case serverHello(version: UInt16, cipher: UInt16, sessionID: UnsafeRawBufferPointer, helloRetry: Bool)
    /// `ssl_extension`: every extension of a hello, before the hello's own event (Zeek raises the
    /// extension events first).
    case helloExtension(isClient: Bool, type: UInt16, data: UnsafeRawBufferPointer)
    /// `ssl_extension_server_name`: the first host name of an SNI extension and how many names
    /// it listed.
    case serverName(isClient: Bool, name: UnsafeRawBufferPointer, count: Int)
    /// `ssl_extension_application_layer_protocol_negotiation`: the first protocol listed.
    case alpn(isClient: Bool, first: UnsafeRawBufferPointer)
    /// `ssl_extension_supported_versions` from the server: its single chosen version.
    case serverSupportedVersion(UInt16)
    /// `ssl_extension_key_share` from the server: its single chosen group.
    case serverKeyShare(group: UInt16)
    /// `ssl_handshake_message`: any handshake message, by type and length.
    case handshakeMessage(isClient: Bool, type: UInt8, length: Int)
    /// One certificate of a Certificate message (Zeek hands each to the file analysis framework
    /// as an X.509 file): `index` 0 is the sender's own certificate.
    case certificate(isClient: Bool, index: Int, der: UnsafeRawBufferPointer)
    /// `ssl_ecdh_server_params`: the named curve of an ECDHE ServerKeyExchange.
    case ecdhServerCurve(UInt16)
    /// `ssl_change_cipher_spec`.
    case changeCipherSpec(isClient: Bool)
    /// `ssl_alert`.
    case alert(isClient: Bool, level: UInt8, description: UInt8)
    /// `ssl_heartbeat` in the clear.
    case heartbeat(isClient: Bool)
    /// `ssl_plaintext_data`: a record that was not encrypted, by content type.
    case plaintextData(isClient: Bool, contentType: UInt8)
    /// `ssl_established`: both sides switched to encryption and a further record arrived.
    case established
}

/// Receives a ``TLSConnection``'s events. The parser takes it as a generic `inout` parameter,
/// so calls are direct and specialised (no existential on the packet path).
public protocol TLSEventSink {
    /// Handles one event.
    mutating func tls(_ event: TLSEvent)
}
