/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scenario files: a line-oriented plan of strokes for the virtual roller
 * (the format is documented for users in doc/roller-sim.md).
 *
 *   # forehead, horizontal
 *   set zone=forehead angle=horizontal distance=40 speed=60 force=2.5N
 *   wait zone=forehead
 *   repeat 2
 *     roll dir=forward
 *     roll dir=backward lift_at=20
 *   end
 *   pause ms=800
 *
 * Parsing expands repeats into one flat list of strokes, split into parts at
 * each `wait` line.
 */
#pragma once

#include <glib.h>

#include "dp/model.h"

#define SCENARIO_ERROR (scenario_error_quark())
GQuark scenario_error_quark(void);

enum scenario_error {
	SCENARIO_ERROR_SYNTAX,       /* not key=value, `end` without `repeat`, ... */
	SCENARIO_ERROR_KEYWORD,      /* unknown keyword at the start of a line */
	SCENARIO_ERROR_KEY,          /* unknown, repeated or missing key */
	SCENARIO_ERROR_NUMBER,       /* not a number */
	SCENARIO_ERROR_RANGE,        /* a number out of its range */
	SCENARIO_ERROR_ZONE,         /* unknown zone name */
	SCENARIO_ERROR_VALUE,        /* unknown word for dir= or angle= */
	SCENARIO_ERROR_TOO_BIG,      /* repeats expand to too many strokes */
	SCENARIO_ERROR_EMPTY,        /* no stroke at all */
};

/* A run of strokes, rolled once the host has a session on wait_zone
 * (0: straight away). */
struct scenario_part {
	guint8 wait_zone;            /* enum dp_zone, 0 = no wait */
	guint first;                 /* index into strokes */
	guint count;
};

struct scenario {
	char *name;                  /* file name, for messages */
	GArray *strokes;             /* struct dp_stroke */
	GArray *parts;               /* struct scenario_part, in order */
};

/* Most strokes a scenario may expand to. */
#define SCENARIO_MAX_STROKES 200000

/* Parses text; name is used in error messages ("name:line: ..."). */
struct scenario *scenario_parse(const char *name, const char *text, GError **error);
struct scenario *scenario_load(const char *path, GError **error);
void scenario_free(struct scenario *sc);
/* autoptr glue: GLib's macro needs a type name */
typedef struct scenario scenario;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(scenario, scenario_free)

/* Passes the roller should count for the whole scenario (dp_stroke_passes). */
guint scenario_passes(const struct scenario *sc);

/* Zone names as written in scenario files ("left-cheek"); NULL if out of range. */
const char *scenario_zone_name(guint8 zone);
/* Zone by name ("left-cheek" or "left_cheek", "none" is 0); FALSE if unknown. */
gboolean scenario_zone_from_name(const char *name, guint8 *zone);
