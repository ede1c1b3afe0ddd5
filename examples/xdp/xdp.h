/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Keys of the `packets` map of xdp.bpf.c: an IP protocol number, or XDP_KEY_NOT_IP. */
#ifndef __XDP_H
#define __XDP_H

#define XDP_KEY_NOT_IP 256
#define XDP_KEYS 257

#endif /* __XDP_H */
