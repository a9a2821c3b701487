/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The treatment zones and the pass direction classes.
 *
 * Zones carry the wire ids of enum dp_zone (PROTOCOL.md §6), a stable machine
 * name for files and command lines ("left-cheek"), a user-facing label
 * ("Left cheek"), a class (SAFETY.md "Zones": face, body, scalp) and the
 * guidance order of SAFETY.md.  The eyelids, the lips and broken skin are
 * never zones, so they have no entry.
 */
#pragma once

#include <stdbool.h>

#include <dp/proto.h>

#define ZONE_COUNT DP_ZONE_MAX	/* wire ids 1..ZONE_COUNT */

enum zone_class {
	ZONE_CLASS_FACE,
	ZONE_CLASS_BODY,
	ZONE_CLASS_SCALP,
};
#define ZONE_CLASS_COUNT 3

struct zone_info {
	enum dp_zone id;
	const char *name;	/* machine name: "left-cheek" */
	const char *label;	/* user-facing, sentence start: "Left cheek" */
	const char *phrase;	/* user-facing, mid-sentence: "left cheek" */
	enum zone_class zclass;
	unsigned int order;	/* guidance order, 0 = first */
};

/* The zone with wire id @id, or NULL when @id is not 1..ZONE_COUNT. */
const struct zone_info *zone_get(int id);

/* The zone at guidance position @order (0..ZONE_COUNT-1), or NULL. */
const struct zone_info *zone_by_order(unsigned int order);

/*
 * Looks a zone up by what a person or a file wrote: the machine name or the
 * label, case-insensitively (Unicode case folding), with surrounding
 * whitespace ignored and ' ', '_' and '-' treated alike.  "left-cheek",
 * "Left cheek", "LEFT_CHEEK", "décolletage" and "Décolletage" all match.
 * Returns NULL for anything else, including NULL and invalid UTF-8.
 */
const struct zone_info *zone_lookup(const char *name);

/* "face", "body", "scalp"; NULL for an unknown class. */
const char *zone_class_name(enum zone_class zclass);

/* The class named "face", "body" or "scalp" (exact); false if unknown. */
bool zone_class_from_name(const char *name, enum zone_class *zclass);

/* Pass direction classes (SAFETY.md "Passes": three directions per zone). */
enum zone_dir {
	ZONE_DIR_HORIZONTAL,
	ZONE_DIR_VERTICAL,
	ZONE_DIR_DIAGONAL,
};
#define ZONE_DIR_COUNT 3

/*
 * Classifies a pass by its track angle (struct dp_pass.angle_deg, 0 = along
 * the face's vertical): vertical within 22.5° of 0 or 180, horizontal within
 * 22.5° of 90, diagonal otherwise.  For whole degrees that is vertical
 * 0..22 and 158..179, horizontal 68..112, diagonal 23..67 and 113..157.
 * Angles of 180 and more are taken modulo 180 (a track has no sense).
 */
enum zone_dir zone_classify_angle(unsigned int angle_deg);

/* "horizontal", "vertical", "diagonal"; NULL for an unknown value. */
const char *zone_dir_name(enum zone_dir dir);
