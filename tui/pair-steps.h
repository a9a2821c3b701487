/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The steps after Pair() (PROTOCOL.md §9.5), one copy for `dermaroll
 * pair` and the TUI's pairing wizard: read the roller's INFO over the new
 * bond, record the roller with its Bluetooth address and its head in the
 * history, and check the head's needle length against the safety policy.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "link.h"
#include "policy.h"
#include "store.h"

/* Connect, resolve services and read INFO (link-bluez.c waits 30 s for
 * the services alone). */
#define PAIR_INFO_TIMEOUT_MS 90000
/* A roller's name: 1..64 bytes of text on one line. */
#define PAIR_NAME_MAX_BYTES 64

struct pair_info_read;

/* INFO was read (error NULL, @info set), or why not. */
typedef void (*pair_info_func)(const struct dp_info *info, const char *name,
			       const GError *error, void *user_data);

/* Waits for @link (just made, not connected yet) to connect and report
 * INFO, then closes it (link_close, whatever its state) before func runs;
 * func runs once, from the main loop, unless pair_info_read_cancel()
 * comes first.  A reference to @link is taken.  A program that leaves
 * right after keeps its own reference and waits for BlueZ to drop the
 * link (cmd_bluez_let_go); one that goes on running need not. */
struct pair_info_read *pair_info_read_start(struct link *link, guint timeout_ms,
					    pair_info_func func, void *user_data);
/* Stops waiting and closes the link (link_close); func is not called. */
void pair_info_read_cancel(struct pair_info_read *r);

/* Whether @name may name a roller (1..64 bytes of UTF-8, no control
 * characters). */
bool pair_name_valid(const char *name);

struct pair_record {
	int64_t roller_id;
	bool head_refused;           /* needles at or over the policy's limit */
	unsigned int refuse_um;      /* that limit */
};

/* Records the roller of @info (named @name when not NULL) with its
 * @address and its head at @now_ms, and checks the head against @policy. */
gboolean pair_record(struct store *store, const struct policy *policy,
		     const struct dp_info *info, const char *name, const char *address,
		     int64_t now_ms, struct pair_record *out, GError **error);

/* The head check in a sentence or two: refused, with what to do, or its
 * needle length and uses. */
char *pair_head_text(const struct dp_info *info, const struct pair_record *rec);
