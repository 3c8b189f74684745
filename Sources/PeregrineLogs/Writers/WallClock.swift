// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The wall clock of `#open`/`#close` lines (the writer's real time, not network time).
public enum WallClock {
    /// Seconds since the epoch now; the default clock of the writers.
    /// The corresponding C function is `time`.
    public static func now() -> Int { Int(time(nil)) }

    /// Appends `seconds` in the local time zone as `%Y-%m-%d-%H-%M-%S`, as Zeek's ASCII writer does.
    /// The corresponding C functions are `localtime_r` and `strftime`.
    static func appendLocalTime(_ seconds: Int, to out: inout [UInt8]) {
        var t = time_t(seconds)
        var parts = tm()
        var text: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        guard localtime_r(&t, &parts) != nil else {
            out.append(contentsOf: "0000-00-00-00-00-00".utf8)
            return
        }
        withUnsafeMutableBytes(of: &text) { raw in
            let n = strftime(raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count, "%Y-%m-%d-%H-%M-%S", &parts)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<n]))
        }
    }
}
