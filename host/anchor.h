/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A counted handle on an object that may be freed while callbacks it set
 * up are still pending: link commands outlive their sender when the link
 * fails them later.  Each pending callback holds a reference; the owner
 * cuts the handle when it is freed, and late callbacks find target NULL.
 */
#pragma once

#include <glib.h>

struct anchor {
	gatomicrefcount ref;
	void *target;                /* NULL once cut */
};

static inline struct anchor *anchor_new(void *target)
{
	struct anchor *a = g_new0(struct anchor, 1);

	g_atomic_ref_count_init(&a->ref);
	a->target = target;
	return a;
}

static inline struct anchor *anchor_ref(struct anchor *a)
{
	g_atomic_ref_count_inc(&a->ref);
	return a;
}

/* A GDestroyNotify, to hand over with each callback's reference. */
static inline void anchor_unref(gpointer data)
{
	struct anchor *a = data;

	if (g_atomic_ref_count_dec(&a->ref))
		g_free(a);
}

/* The owner is going away: no callback may reach it any more. */
static inline void anchor_cut(struct anchor *a)
{
	a->target = NULL;
	anchor_unref(a);
}
