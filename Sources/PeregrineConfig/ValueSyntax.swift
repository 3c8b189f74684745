// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineEngine

/// A value parsed from text, or the reason the text is not one.
enum Parsed<Value> {
    case value(Value)
    case invalid(String)
}

/// The text forms of sizes and intervals in the file.
enum ValueSyntax {
    /// Parses a byte size: a whole number of bytes (`4096`) or a number with a binary unit (`64KiB`,
    /// `1MiB`, `1.5GiB`, `2TiB`; `K`, `M`, `G`, `T` mean the same). Decimal units (`MB`) are refused
    /// rather than guessed: ring and UMEM sizes are counted in pages, which are powers of two.
    /// - Returns: the bytes, or the reason the text is not a size.
    static func size(_ text: String) -> Parsed<Int> {
        let trimmed = text.filter { $0 != "_" && $0 != " " }
        let number = trimmed.prefix { $0.isNumber || $0 == "." }
        let unit = trimmed.dropFirst(number.count)
        let scale: Double
        switch unit {
        case "", "B": scale = 1
        case "K", "KiB": scale = 0x400
        case "M", "MiB": scale = 0x10_0000
        case "G", "GiB": scale = 0x4000_0000
        case "T", "TiB": scale = 0x100_0000_0000
        case "kB", "KB", "MB", "GB", "TB":
            return .invalid("'\(text)': use binary units (KiB, MiB, GiB, TiB)")
        default: return .invalid("'\(text)' is not a size (such as 4096, 64KiB, 1MiB, 2GiB)")
        }
        guard let value = Double(number), value >= 0 else {
            return .invalid("'\(text)' is not a size (such as 4096, 64KiB, 1MiB, 2GiB)")
        }
        let bytes = value * scale
        guard bytes < 0x1p62 else { return .invalid("'\(text)' is too large") }
        guard bytes == bytes.rounded(.down) else { return .invalid("'\(text)' is not a whole number of bytes") }
        return .value(Int(bytes))
    }

    /// Parses an interval: short units (`10ms`, `30s`, `5m`, `1h`, `7d`) or Zeek's (`300`, `5 min`,
    /// `30secs`, `1hr`, `2days`, as ``Configuration/apply(option:)`` reads them).
    /// - Returns: the interval, or the reason the text is not one.
    static func interval(_ text: String, path: String) -> Parsed<Interval> {
        let number = text.prefix { $0.isNumber || $0 == "." }
        let unit = text.dropFirst(number.count).filter { $0 != " " }
        let short: [String: Double] = ["ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400]
        if let scale = short[unit], let value = Double(number) {
            guard value * scale < 1e9 else { return .invalid("'\(text)' is too long") }
            return .value(Interval(nanoseconds: Int64(value * scale * 1e9)))
        }
        // Zeek's units go up to days: beyond 1e5 of them the nanoseconds overflow `Int64`.
        if let value = Double(number), value > 1e5,
            !["", "sec", "secs", "msec", "msecs"].contains(unit) || value >= 1e9
        {
            return .invalid("'\(text)' is too long")
        }
        do {
            return .value(try Configuration.parseInterval(text, option: path))
        } catch {
            let reason = ConfigurationReader.reason(error, path: path).dropFirst(path.count + 2)
            return .invalid("\(reason) (intervals look like 10ms, 30s, 5min, 1h, 7d)")
        }
    }
}
