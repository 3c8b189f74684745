// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Number, address and uid rendering straight into a byte buffer: no `String` per value.
extension Array where Element == UInt8 {
    @usableFromInline static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends raw bytes. This module-internal overload wins over the standard library's generic
    /// `append(contentsOf:)`, which costs about 100 instructions per call whatever the length
    /// (callgrind on real-mix.pcap: 10.3 M instructions, 4.5 % of the run, mostly for the 2- to
    /// 8-byte fields of log records). Short runs are appended byte by byte (the inlined
    /// single-element append), longer ones through a typed buffer (one `memcpy`).
    @inline(__always)
    mutating func append(contentsOf raw: UnsafeRawBufferPointer) {
        guard let base = raw.baseAddress, raw.count > 0 else { return }
        if raw.count <= 16 {
            reserveCapacity(count &+ raw.count)
            for i in 0..<raw.count { append(base.load(fromByteOffset: i, as: UInt8.self)) }
        } else {
            append(contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: raw.count))
        }
    }

    /// Appends the bytes of an ASCII literal.
    @inline(__always)
    mutating func append(ascii literal: StaticString) {
        literal.withUTF8Buffer { append(contentsOf: $0) }
    }

    /// Appends `value` in decimal.
    mutating func appendDecimal(_ value: UInt64) {
        if value < 10 {
            append(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        Swift.withUnsafeMutableBytes(of: &digits) { raw in
            var v = value
            var i = raw.count
            while v > 0 {
                i -= 1
                raw[i] = UInt8(truncatingIfNeeded: v % 10) &+ 0x30
                v /= 10
            }
            append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[i...]))
        }
    }

    /// Appends a signed `value` in decimal.
    mutating func appendDecimal(_ value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        appendDecimal(value.magnitude)
    }

    /// Appends `value` as exactly `width` decimal digits, zero-padded.
    mutating func appendDecimal(_ value: UInt64, width: Int) {
        var divisor: UInt64 = 1
        for _ in 1..<width { divisor &*= 10 }
        var v = value
        while divisor > 0 {
            append(UInt8(truncatingIfNeeded: (v / divisor) % 10) &+ 0x30)
            v %= divisor
            divisor /= 10
        }
    }

    /// Appends `\xNN` with lower-case hex digits.
    @inline(__always)
    mutating func appendHexEscape(_ byte: UInt8) {
        append(UInt8(ascii: "\\"))
        append(UInt8(ascii: "x"))
        append(Self.hexDigits[Int(byte >> 4)])
        append(Self.hexDigits[Int(byte & 0x0F)])
    }

    /// Appends an address as Zeek renders it: dotted quad, or RFC 5952 compressed lower-case IPv6.
    mutating func appendAddress(_ address: IPAddress) {
        if address.isIPv4 {
            let v = address.ipv4Value
            appendDecimal(UInt64(v >> 24))
            append(UInt8(ascii: "."))
            appendDecimal(UInt64((v >> 16) & 0xFF))
            append(UInt8(ascii: "."))
            appendDecimal(UInt64((v >> 8) & 0xFF))
            append(UInt8(ascii: "."))
            appendDecimal(UInt64(v & 0xFF))
            return
        }
        @inline(__always) func group(_ i: Int) -> UInt16 {
            let word = i < 4 ? address.high : address.low
            return UInt16(truncatingIfNeeded: word >> (48 - 16 * UInt64(i & 3)))
        }
        // RFC 5952 §4.2: the longest run (first if tied) of two or more zero groups becomes `::`.
        var bestStart = -1, bestLength = 1, runStart = -1
        for i in 0...8 {
            if i < 8 && group(i) == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        var i = 0
        while i < 8 {
            if i == bestStart {
                append(UInt8(ascii: ":"))
                append(UInt8(ascii: ":"))
                i += bestLength
                continue
            }
            if i > 0 && i != bestStart + bestLength { append(UInt8(ascii: ":")) }
            let g = group(i)
            var started = false
            for shift in stride(from: 12, through: 0, by: -4) {
                let nibble = Int((g >> UInt16(shift)) & 0xF)
                if nibble != 0 || started || shift == 0 {
                    append(Self.hexDigits[nibble])
                    started = true
                }
            }
            i += 1
        }
    }

    /// Appends a subnet as `prefix/len`, IPv4 lengths counted in IPv4 bits.
    mutating func appendSubnet(_ network: IPAddress, length128: UInt8) {
        appendAddress(network)
        append(UInt8(ascii: "/"))
        appendDecimal(UInt64(network.isIPv4 ? length128 &- 96 : length128))
    }

    /// Appends nanoseconds as seconds with exactly 6 decimals, as Zeek's `%.6f` of the double.
    ///
    /// Microsecond values (every pcap timestamp) are exact: a double holds them closer than half a
    /// microsecond, so `%.6f` prints their own digits, and we print those digits directly. Finer values
    /// go through `%.6f` of the double Zeek would hold (`seconds + fraction / 1e9`).
    mutating func appendFixed6(nanoseconds ns: Int64) {
        if ns % 1000 == 0 {
            if ns < 0 { append(UInt8(ascii: "-")) }
            let magnitude = ns.magnitude
            appendDecimal(magnitude / 1_000_000_000)
            append(UInt8(ascii: "."))
            appendDecimal((magnitude % 1_000_000_000) / 1000, width: 6)
            return
        }
        appendPrintf6(Self.zeekSeconds(ns))
    }

    /// The double Zeek holds for a time of `ns` nanoseconds: whole seconds plus the fraction.
    static func zeekSeconds(_ ns: Int64) -> Double {
        Double(ns / 1_000_000_000) + Double(ns % 1_000_000_000) / 1e9
    }

    /// Appends C's `%.6f` of `value`.
    mutating func appendPrintf6(_ value: Double) {
        var scratch: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        // %.6f of the largest finite double is 316 characters: values that large are written via
        // their shortest form instead, which is what any reader parses back to the same number.
        guard value.magnitude < 1e50 else {
            appendShortestDouble(value)
            return
        }
        Swift.withUnsafeMutableBytes(of: &scratch) { raw in
            let n = withVaList([value]) { args in
                vsnprintf(raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count, "%.6f", args)
            }
            append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<Swift.min(Int(n), raw.count - 1)]))
        }
    }

    /// Appends a `double` as Zeek's TSV writer does (`ODesc::Add(double, no_exp=true)`).
    ///
    /// Zeek's `modp_dtoa2` rounds to 6 decimals (half-way cases up only when the last digit is odd),
    /// drops trailing zeros and the point; magnitudes above 2^31-1 are printed with `%.6f` instead
    /// (`modp_dtoa3`), here trimmed the same way. Then `.0` is added when the value is within 1e-9 of an
    /// integer and finite, so `500` reads `500.0`, while `2.0000004` reads `2` as in Zeek.
    mutating func appendZeekDouble(_ value: Double) {
        if value.isNaN {
            append(ascii: "nan")
            return
        }
        if value.isInfinite {
            append(ascii: value < 0 ? "-inf" : "inf")
            return
        }
        let magnitude = value.magnitude
        if magnitude > 2_147_483_647.0 {
            let start = count
            appendPrintf6(value)
            if self[start...].contains(UInt8(ascii: ".")) {
                while last == UInt8(ascii: "0") { removeLast() }
                if last == UInt8(ascii: ".") { removeLast() }
            }
        } else {
            var whole = UInt64(magnitude)
            let scaled = (magnitude - Double(whole)) * 1e6
            var fraction = UInt64(scaled)
            let diff = scaled - Double(fraction)
            if diff > 0.5 || (diff == 0.5 && fraction & 1 == 1) {
                fraction += 1
                if fraction >= 1_000_000 {
                    fraction = 0
                    whole += 1
                }
            }
            if value < 0 { append(UInt8(ascii: "-")) }
            appendDecimal(whole)
            if fraction != 0 {
                var digits = 6
                while fraction % 10 == 0 {
                    fraction /= 10
                    digits -= 1
                }
                append(UInt8(ascii: "."))
                appendDecimal(fraction, width: digits)
            }
        }
        if (value - value.rounded(.toNearestOrEven)).magnitude < 1e-9 {
            append(ascii: ".0")
        }
    }

    /// Appends a JSON number the way Zeek's JSON writer (RapidJSON `Writer::Double`) does: the
    /// shortest digits that read back as the same double, `.0` after integral values, decimal
    /// notation for decimal exponents from -6 to 21 and `1e-7`/`1.5e30` outside. NaN and infinities
    /// become `null`.
    ///
    /// The digits come from Swift's shortest round-trip conversion; RapidJSON's Grisu2 yields the same
    /// digits except in rare cases where it is one digit longer.
    mutating func appendShortestDouble(_ value: Double) {
        guard value.isFinite else {
            append(ascii: "null")
            return
        }
        if value == 0 {
            append(ascii: value.sign == .minus ? "-0.0" : "0.0")
            return
        }
        // Swift prints e.g. "1300475167.096535", "1e-07", "1.5e+30": take digits and exponent from it.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // up to 17 significant digits
        var digitCount = 0
        var pointPosition = -1
        var exponent = 0
        Swift.withUnsafeMutableBytes(of: &digits) { out in
            var text = value.magnitude.description
            text.withUTF8 { utf8 in
                var i = 0
                var leading = true
                var seenPoint = false
                var position = 0  // digits before the point, leading zeros excluded
                var zerosAfterPoint = 0
                while i < utf8.count {
                    let c = utf8[i]
                    if c == UInt8(ascii: ".") {
                        seenPoint = true
                    } else if c == UInt8(ascii: "e") {
                        var sign = 1
                        var j = i + 1
                        if utf8[j] == UInt8(ascii: "-") { sign = -1; j += 1 } else if utf8[j] == UInt8(ascii: "+") { j += 1 }
                        var e = 0
                        while j < utf8.count {
                            e = e * 10 + Int(utf8[j] &- 0x30)
                            j += 1
                        }
                        exponent = sign * e
                        break
                    } else if leading && c == UInt8(ascii: "0") {
                        if seenPoint { zerosAfterPoint += 1 }
                    } else {
                        leading = false
                        if digitCount < out.count {
                            out[digitCount] = c
                            digitCount += 1
                        }
                        if !seenPoint { position += 1 }
                    }
                    i += 1
                }
                pointPosition = position - zerosAfterPoint
            }
            while digitCount > 1 && out[digitCount - 1] == UInt8(ascii: "0") { digitCount -= 1 }
        }
        // value = 0.d1d2d3... × 10^(pointPosition + exponent); RapidJSON's kk is that power.
        let kk = pointPosition + exponent
        let k = kk - digitCount
        if value < 0 { append(UInt8(ascii: "-")) }
        Swift.withUnsafeBytes(of: &digits) { raw in
            let d = UnsafeRawBufferPointer(rebasing: raw[0..<digitCount])
            if k >= 0 && kk <= 21 {
                append(contentsOf: d)
                for _ in 0..<k { append(UInt8(ascii: "0")) }
                append(ascii: ".0")
            } else if kk > 0 && kk <= 21 {
                append(contentsOf: UnsafeRawBufferPointer(rebasing: d[0..<kk]))
                append(UInt8(ascii: "."))
                append(contentsOf: UnsafeRawBufferPointer(rebasing: d[kk...]))
            } else if kk > -6 && kk <= 0 {
                append(ascii: "0.")
                for _ in 0..<(-kk) { append(UInt8(ascii: "0")) }
                append(contentsOf: d)
            } else {
                append(d[0])
                if digitCount > 1 {
                    append(UInt8(ascii: "."))
                    append(contentsOf: UnsafeRawBufferPointer(rebasing: d[1...]))
                }
                append(UInt8(ascii: "e"))
                appendDecimal(Int64(kk - 1))
            }
        }
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC) as Zeek's `JSON::TS_ISO8601` does.
    ///
    /// Zeek splits the double with `modf` and prints the fraction with `%06.0f` of microseconds, so a
    /// fraction that rounds up to a whole second prints `1000000`, as it does in Zeek.
    mutating func appendISO8601(nanoseconds ns: Int64) {
        let seconds = Self.zeekSeconds(ns)
        let whole = seconds.rounded(.down)
        var fraction = seconds - seconds.rounded(.towardZero)
        if fraction < 0 { fraction += 1 }
        let micros = UInt64((fraction * 1e6).rounded(.toNearestOrEven))
        let epochSeconds = Int64(whole)
        var days = epochSeconds / 86_400
        var secondOfDay = epochSeconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        if year < 0 { append(UInt8(ascii: "-")) }
        appendDecimal(UInt64(year.magnitude), width: 4)
        append(UInt8(ascii: "-"))
        appendDecimal(UInt64(month), width: 2)
        append(UInt8(ascii: "-"))
        appendDecimal(UInt64(day), width: 2)
        append(UInt8(ascii: "T"))
        appendDecimal(UInt64(secondOfDay / 3600), width: 2)
        append(UInt8(ascii: ":"))
        appendDecimal(UInt64(secondOfDay / 60 % 60), width: 2)
        append(UInt8(ascii: ":"))
        appendDecimal(UInt64(secondOfDay % 60), width: 2)
        append(UInt8(ascii: "."))
        appendDecimal(micros, width: Swift.max(6, micros >= 1_000_000 ? 7 : 6))
        append(UInt8(ascii: "Z"))
    }
}
