/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a link backend provides and calls.  Private to host/: only link.c and
 * the backends include it.
 */
#pragma once

#include "link.h"

struct link_backend_ops {
	const char *name;
	/* Reads a characteristic; the value comes back by link_backend_read_result. */
	gboolean (*read)(void *backend, enum dp_char chr, GError **error);
	/* Writes with response; the answer comes back by link_backend_write_result. */
	gboolean (*write)(void *backend, enum dp_char chr, const uint8_t *buf, size_t len,
			  GError **error);
	/* mode: 0 off, 1 notify, 2 indicate. */
	gboolean (*subscribe)(void *backend, enum dp_char chr, uint8_t mode, GError **error);
	/* Stops all I/O; no calls into the link after this returns. */
	void (*close)(void *backend);
	void (*free)(void *backend);
};

struct link *link_new(const struct link_backend_ops *ops, void *backend);

/* The transport is up: the roller is reachable and gave its advertising data. */
void link_backend_ready(struct link *link, uint16_t att_mtu, const struct dp_adv *adv,
			const char *name);
void link_backend_read_result(struct link *link, enum dp_char chr, uint8_t att_status,
			      const uint8_t *buf, size_t len);
void link_backend_write_result(struct link *link, enum dp_char chr, uint8_t att_status);
/* A notification or indication value (the backend confirms indications). */
void link_backend_value(struct link *link, enum dp_char chr, const uint8_t *buf, size_t len);
/* The transport went down.  Takes ownership of error. */
void link_backend_lost(struct link *link, GError *error);
