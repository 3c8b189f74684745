// SPDX-License-Identifier: Apache-2.0
// libpcap, imported as a system library: offline pcap/pcapng reading and BPF filter compilation.
#include <pcap/pcap.h>
