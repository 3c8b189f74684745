// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// One NTP message (RFC 5905 §7.3), decoded the way Zeek's NTP analyzer decodes it.
///
/// Only what Zeek's `NTP::Message` record carries for ntp.log is kept: the mode and version of
/// every message, and for the standard modes 1-5 the synchronisation fields. Modes 6 (control) and
/// 7 (private) are recognised so that a flow carrying them still confirms NTP, but their bodies are
/// not logged in ntp.log (Zeek writes them to other logs that this sensor does not produce yet).
public struct NTPMessage: Equatable, Sendable {
    /// The mode of a client request (RFC 5905 Figure 10).
    public static let clientMode: UInt8 = 3
    /// The mode of a server reply.
    public static let serverMode: UInt8 = 4

    /// Leap indicator, the first two bits.
    public var leap: UInt8
    /// Protocol version, bits 3-5.
    public var version: UInt8
    /// Association mode, the last three bits.
    public var mode: UInt8
    /// The body of modes 1-5; `nil` for other modes.
    public var standard: NTPStandardMessage?
}

/// The body shared by NTP modes 1-5.
public struct NTPStandardMessage: Equatable, Sendable {
    public var stratum: UInt8
    /// log2 of the maximum interval between successive messages, in seconds.
    public var poll: Int8
    /// log2 of the precision of the system clock, in seconds.
    public var precision: Int8
    /// Root delay and root dispersion in NTP short format (16.16 fixed point, raw).
    public var rootDelay: UInt32
    public var rootDispersion: UInt32
    /// The four reference-id bytes: a kiss code at stratum 0, a clock name at stratum 1, an IPv4
    /// address (or the first bytes of an MD5 of an IPv6 address) above.
    public var referenceID: (UInt8, UInt8, UInt8, UInt8)
    /// The four NTP timestamps (32.32 fixed point since 1900, raw).
    public var referenceTime: UInt64
    public var originTime: UInt64
    public var receiveTime: UInt64
    public var transmitTime: UInt64
    /// Number of RFC 5906 extension fields before the optional MAC.
    public var extensionCount: Int

    public static func == (a: Self, b: Self) -> Bool {
        a.stratum == b.stratum && a.poll == b.poll && a.precision == b.precision && a.rootDelay == b.rootDelay
            && a.rootDispersion == b.rootDispersion && a.referenceID == b.referenceID
            && a.referenceTime == b.referenceTime && a.originTime == b.originTime
            && a.receiveTime == b.receiveTime && a.transmitTime == b.transmitTime
            && a.extensionCount == b.extensionCount
    }
}
