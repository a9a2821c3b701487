/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A virtual roller in this process, joined to a link by a socketpair: what
 * `dermaroll --simulate` and `dermaroll session --simulate` share.
 */
#pragma once

#include <glib.h>

#include "link.h"
#include "store.h"
#include "virtual-roller.h"

/* Opens (creating it and its folder if missing) the history of virtual
 * rollers, $XDG_DATA_HOME/dermaroll/demo.db, kept apart from the real one. */
struct store *sim_open_demo_history(GError **error);

/*
 * Builds a virtual roller with @opts, attaches it to one end of a new
 * socketpair and returns a link on the other.  *roller is set as soon as
 * the roller exists (unref it, even on failure).
 *
 * Each run rolls a new virtual roller: a fresh device whose offline log
 * starts at record 1.  Under a serial the history knows, its records would
 * be taken for ones already stored (PROTOCOL.md: the host de-duplicates by
 * roller serial and sequence), so it gets the first DR-SIM-NNNN that
 * @store has not seen, whatever opts->serial says.
 */
struct link *sim_start(struct store *store, const struct virtual_roller_options *opts,
		       struct virtual_roller **roller, GError **error);
