// SPDX-License-Identifier: Apache-2.0
import Glibc

/// A failure to find, open or load one of the `bpf/` programs (style.md §5: setup failures throw).
///
/// Each case prints as one line saying what failed and what to do.
public enum BPFError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The object file is not where it was looked for.
    case objectMissing(path: String)
    /// libbpf could not open or parse the object file.
    case openFailed(path: String, errno: Int32, reason: String)
    /// The object has no `.rodata.config` of the expected size (built from other sources).
    case configurationRejected(path: String, errno: Int32)
    /// The kernel refused the object: `reason` is libbpf's message, with the verifier's last lines
    /// when the verifier rejected a program.
    case loadFailed(path: String, errno: Int32, reason: String)
    /// The object has no program or map of that name.
    case missing(path: String, name: String)
    /// A BPF system call on a loaded program or map failed.
    case syscall(call: String, errno: Int32)

    /// One line naming what failed and what to do.
    public var description: String {
        switch self {
        case .objectMissing(let path):
            return "BPF object \(path) not found: build the programs with `make -C bpf` and install them next to "
                + "the peregrine binary (`make -C bpf install DESTDIR=DIR`), or name their directory with "
                + "--bpf-dir or PEREGRINE_BPF_DIR"
        case .openFailed(let path, _, let reason):
            return "cannot open BPF object \(path): \(reason); rebuild it with `make -C bpf`"
        case .configurationRejected(let path, let code):
            return "BPF object \(path) has no usable .rodata.config section (\(String(cString: strerror(code)))): "
                + "it was not built from this version's bpf/; rebuild it with `make -C bpf`"
        case .loadFailed(let path, let code, let reason):
            let hint: String
            switch code {
            case EPERM:
                hint = "loading BPF programs needs CAP_BPF and CAP_NET_ADMIN (or root)"
            case EACCES, EINVAL:
                hint = "the kernel refused the program (the verifier's reason is quoted); rebuild the objects from "
                    + "this version's bpf/ with `make -C bpf` and check the kernel version in bpf/README.md"
            default:
                hint = "see bpf/README.md for the kernel and privileges the programs need"
            }
            return "loading BPF object \(path) failed: \(reason); \(hint)"
        case .missing(let path, let name):
            return "BPF object \(path) has no program or map '\(name)'; rebuild it with `make -C bpf`"
        case .syscall(let call, let code):
            return "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}
