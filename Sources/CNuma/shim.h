// SPDX-License-Identifier: Apache-2.0
//
// libnuma (Debian libnuma-dev), used by PeregrineSystem's NUMA wrapper to put each live worker's
// memory on the node of its CPU.
#include <numa.h>
