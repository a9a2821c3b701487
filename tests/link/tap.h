/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A wiretap for the link tests: relays local link messages (PROTOCOL.md
 * §10) between a host and a roller, as a radio would, and records every
 * PASS record the roller sent (STREAM or HISTORY), so that a test can hold
 * the store against what the roller really emitted, figure by figure.
 *
 * Each relayed connection runs on two threads with blocking I/O; when
 * either side closes, the tap closes the other, as a dropped radio link.
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

#include "dp/proto.h"

struct tap;

struct tap *tap_new(void);
/* Shuts every relay down, joins its threads, closes its sockets. */
void tap_free(struct tap *tap);

/* Relays between @host_fd and @roller_fd (both SOCK_SEQPACKET, blocking);
 * the tap owns both. */
void tap_relay(struct tap *tap, int host_fd, int roller_fd);

/* Listens on @path; each host that connects is relayed to a new connection
 * to @roller_path (the previous relay is dropped first: one host at a
 * time).  FALSE with @error if @path cannot be bound. */
gboolean tap_listen(struct tap *tap, const char *path, const char *roller_path,
		    GError **error);

/* Every distinct pass seen, by seq (struct dp_pass), a copy. */
GArray *tap_passes(struct tap *tap);
/* Times a seq came again with other figures (must stay 0). */
guint tap_conflicts(struct tap *tap);
/* PASS records seen in total, repeats included. */
guint tap_records(struct tap *tap);
/* Every field of the two passes is the same. */
bool tap_pass_equal(const struct dp_pass *a, const struct dp_pass *b);

/* Connections relayed so far. */
guint tap_connections(struct tap *tap);
