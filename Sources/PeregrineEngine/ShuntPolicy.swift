// SPDX-License-Identifier: Apache-2.0

/// When a worker shunts a connection: hands it to the XDP program, which drops its later packets in
/// the kernel and counts them per direction, so conn.log keeps its packets and bytes (Zeek's
/// "bypass" for elephant flows).
///
/// Only live runs shunt (the XDP program must be attached); offline runs ignore the policy. A
/// connection is shunted when it is TCP or UDP, carried directly in the outermost IP header (the XDP
/// program keys on that header, so tunnelled connections never are), still open, and:
/// - `encrypted`: its TLS handshake is over (both sides sent application data) or its SSH key
///   exchange is (both sides sent NEWKEYS): what follows is ciphertext no analyzer reads. ssl.log and
///   ssh.log are complete by then;
/// - `bytes` > 0: its IP bytes, both directions, passed `bytes`, whatever the analyzers would still
///   do (a file over HTTP or FTP then ends incomplete in files.log, and its hashes are not computed).
public struct ShuntPolicy: Sendable, Equatable {
    /// Shunting on (`shunt.enabled`, `--shunt`).
    public var enabled = false
    /// Shunt TLS and SSH connections once their handshake is over (`shunt.encrypted`).
    public var encrypted = true
    /// Shunt any connection once it carried this many IP bytes; 0 is off (`shunt.bytes`, `--shunt-bytes`).
    public var bytes: UInt64 = 0

    public init(enabled: Bool = false, encrypted: Bool = true, bytes: UInt64 = 0) {
        self.enabled = enabled
        self.encrypted = encrypted
        self.bytes = bytes
    }
}
