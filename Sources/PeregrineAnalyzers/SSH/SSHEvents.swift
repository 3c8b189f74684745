// SPDX-License-Identifier: Apache-2.0

/// One event of Zeek's SSH analyzer (`src/analyzer/protocol/ssh/events.bif`), raised while an
/// ``SSHConnection`` parses a direction's bytes.
///
/// Byte payloads are borrowed views into the parser's input or its buffers, valid only during the
/// sink's call: a consumer that keeps one copies it (a few times per connection, never per
/// encrypted packet).
public enum SSHEvent {
    /// `ssh_client_version`: the originator's identification line, without its line end.
    case clientVersion(UnsafeRawBufferPointer)
    /// `ssh_server_version`: the responder's identification line, without its line end.
    case serverVersion(UnsafeRawBufferPointer)
    /// `ssh_capabilities`: one side's SSH_MSG_KEXINIT (RFC 4253 §7.1).
    case capabilities(SSHKexInit)
    /// `ssh_server_host_key`: the server's public host key blob (K_S of the key exchange reply,
    /// RFC 4253 §8, RFC 4419 §3, RFC 5656 §4); the policy fingerprints it.
    case serverHostKey(UnsafeRawBufferPointer)
    /// `ssh_auth_attempted`: the packet-size heuristic saw an authentication attempt and whether
    /// it succeeded (Zeek's `SSH_Analyzer::ProcessEncrypted`).
    case authAttempted(authenticated: Bool)
    /// `ssh_unknown_kex_algorithm` weird: the negotiated key exchange has no parser here.
    case unknownKexAlgorithm(UnsafeRawBufferPointer)
}

/// The name-lists of one SSH_MSG_KEXINIT, in wire order (RFC 4253 §7.1), as borrowed comma
/// separated views.
public struct SSHKexInit {
    /// Sent by the responder (Zeek's `Capabilities$is_server`).
    public var isServer: Bool
    public var kexAlgorithms: UnsafeRawBufferPointer
    public var serverHostKeyAlgorithms: UnsafeRawBufferPointer
    public var encryptionClientToServer: UnsafeRawBufferPointer
    public var encryptionServerToClient: UnsafeRawBufferPointer
    public var macClientToServer: UnsafeRawBufferPointer
    public var macServerToClient: UnsafeRawBufferPointer
    public var compressionClientToServer: UnsafeRawBufferPointer
    public var compressionServerToClient: UnsafeRawBufferPointer
}

/// Receives an ``SSHConnection``'s events. The parser takes it as a generic `inout` parameter,
/// so calls are direct and specialised (no existential on the packet path).
public protocol SSHEventSink {
    /// Handles one event.
    mutating func ssh(_ event: SSHEvent)
}
