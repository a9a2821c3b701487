/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scenario files (device-proto/sim/scenario.h, doc/roller-sim.md).
 */
#include <glib.h>
#include <string.h>

#include "scenario.h"

static const struct dp_stroke *stroke(const struct scenario *sc, guint i)
{
	g_assert_cmpuint(i, <, sc->strokes->len);
	return &g_array_index(sc->strokes, struct dp_stroke, i);
}

static void test_roll_line(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(scenario) sc = scenario_parse("t.scenario",
		"roll zone=forehead dir=forward angle=90 distance=40 speed=60 force=250 "
		"lift_at=20 hesitate_at=15 hesitate_ms=300\n", &error);
	const struct dp_stroke *s;

	g_assert_no_error(error);
	g_assert_cmpuint(sc->strokes->len, ==, 1);
	s = stroke(sc, 0);
	g_assert_cmpuint(s->kind, ==, DP_STROKE_ROLL);
	g_assert_cmpuint(s->zone, ==, DP_ZONE_FOREHEAD);
	g_assert_cmpuint(s->direction, ==, DP_DIR_FORWARD);
	g_assert_cmpuint(s->angle_deg, ==, 90);
	g_assert_cmpuint(s->distance_mm, ==, 40);
	g_assert_cmpuint(s->speed_mm_s, ==, 60);
	g_assert_cmpuint(s->force_cn, ==, 250);
	g_assert_cmpuint(s->lift_at_mm, ==, 20);
	g_assert_cmpuint(s->hesitate_at_mm, ==, 15);
	g_assert_cmpuint(s->hesitate_ms, ==, 300);
	g_assert_cmpuint(sc->parts->len, ==, 1);
	g_assert_cmpuint(scenario_passes(sc), ==, 2);
	g_assert_cmpstr(sc->name, ==, "t.scenario");
}

/* Words, units and defaults. */
static void test_values(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(scenario) sc = scenario_parse("t",
		"# a comment line\n"
		"   \n"
		"set zone=left_cheek speed=50 distance=30 force=2.5N\r\n"
		"roll dir=backward angle=vertical   # trailing comment\n"
		"roll\tdir=forward angle=diagonal force=310cN\n"
		"set zone=upper-lip\n"
		"back-and-forth dir=forward angle=horizontal force=1.234N distance=12\n"
		"pause ms=800\n"
		"roll dir=forward angle=179 force=0 zone=none\n", &error);
	const struct dp_stroke *s;

	g_assert_no_error(error);
	g_assert_cmpuint(sc->strokes->len, ==, 5);
	s = stroke(sc, 0);
	g_assert_cmpuint(s->zone, ==, DP_ZONE_LEFT_CHEEK);
	g_assert_cmpuint(s->direction, ==, DP_DIR_BACKWARD);
	g_assert_cmpuint(s->angle_deg, ==, 0);
	g_assert_cmpuint(s->force_cn, ==, 250);
	g_assert_cmpuint(s->distance_mm, ==, 30);
	g_assert_cmpuint(s->speed_mm_s, ==, 50);
	s = stroke(sc, 1);
	g_assert_cmpuint(s->angle_deg, ==, 45);
	g_assert_cmpuint(s->force_cn, ==, 310);
	s = stroke(sc, 2);
	g_assert_cmpuint(s->kind, ==, DP_STROKE_BACK_AND_FORTH);
	g_assert_cmpuint(s->zone, ==, DP_ZONE_UPPER_LIP);
	g_assert_cmpuint(s->angle_deg, ==, 90);
	g_assert_cmpuint(s->force_cn, ==, 123);
	g_assert_cmpuint(s->distance_mm, ==, 12);
	s = stroke(sc, 3);
	g_assert_cmpuint(s->kind, ==, DP_STROKE_PAUSE);
	g_assert_cmpuint(s->duration_ms, ==, 800);
	s = stroke(sc, 4);
	g_assert_cmpuint(s->angle_deg, ==, 179);
	g_assert_cmpuint(s->force_cn, ==, 0);
	g_assert_cmpuint(s->zone, ==, DP_ZONE_NONE);
	g_assert_cmpuint(scenario_passes(sc), ==, 1 + 1 + 2 + 0 + 1);
}

static void test_repeat(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(scenario) sc = scenario_parse("t",
		"set angle=90 distance=30 speed=60 force=250\n"
		"repeat 3\n"
		"  roll dir=forward\n"
		"  repeat 2\n"
		"    roll dir=backward\n"
		"  end\n"
		"  pause ms=100\n"
		"end\n"
		"roll dir=forward angle=0\n", &error);
	static const guint8 kinds[] = {
		DP_STROKE_ROLL, DP_STROKE_ROLL, DP_STROKE_ROLL, DP_STROKE_PAUSE,
	};

	g_assert_no_error(error);
	g_assert_cmpuint(sc->strokes->len, ==, 3 * 4 + 1);
	for (guint r = 0; r < 3; r++) {
		for (guint i = 0; i < 4; i++)
			g_assert_cmpuint(stroke(sc, r * 4 + i)->kind, ==, kinds[i]);
		g_assert_cmpuint(stroke(sc, r * 4)->direction, ==, DP_DIR_FORWARD);
		g_assert_cmpuint(stroke(sc, r * 4 + 1)->direction, ==, DP_DIR_BACKWARD);
		g_assert_cmpuint(stroke(sc, r * 4 + 2)->direction, ==, DP_DIR_BACKWARD);
	}
	g_assert_cmpuint(stroke(sc, 12)->angle_deg, ==, 0);
	g_assert_cmpuint(scenario_passes(sc), ==, 10);
}

/* wait lines split the strokes into parts. */
static void test_wait_parts(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(scenario) sc = scenario_parse("t",
		"set angle=90 distance=30 speed=60 force=250 dir=forward\n"
		"roll\n"
		"wait zone=forehead\n"
		"roll\nroll\n"
		"repeat 2\n"
		"wait zone=nose\n"
		"roll\n"
		"end\n", &error);
	static const struct scenario_part expect[] = {
		{ 0, 0, 1 }, { DP_ZONE_FOREHEAD, 1, 2 }, { DP_ZONE_NOSE, 3, 1 },
		{ DP_ZONE_NOSE, 4, 1 },
	};

	g_assert_no_error(error);
	g_assert_cmpuint(sc->strokes->len, ==, 5);
	g_assert_cmpuint(sc->parts->len, ==, G_N_ELEMENTS(expect));
	for (guint i = 0; i < G_N_ELEMENTS(expect); i++) {
		const struct scenario_part *p = &g_array_index(sc->parts, struct scenario_part, i);

		g_assert_cmpuint(p->wait_zone, ==, expect[i].wait_zone);
		g_assert_cmpuint(p->first, ==, expect[i].first);
		g_assert_cmpuint(p->count, ==, expect[i].count);
	}
}

static void test_zone_names(void)
{
	for (guint8 z = 0; z <= DP_ZONE_MAX; z++) {
		guint8 back = 0xff;

		g_assert_nonnull(scenario_zone_name(z));
		g_assert_true(scenario_zone_from_name(scenario_zone_name(z), &back));
		g_assert_cmpuint(back, ==, z);
	}
	g_assert_null(scenario_zone_name(DP_ZONE_MAX + 1));
	{
		guint8 z = 0;

		g_assert_true(scenario_zone_from_name("Right_Cheek", &z));
		g_assert_cmpuint(z, ==, DP_ZONE_RIGHT_CHEEK);
		g_assert_false(scenario_zone_from_name("eyelid", &z));
	}
}

/* The scenario files shipped with roller-sim parse, and the test one rolls
 * the passes doc/roller-sim.md says. */
static void test_shipped_files(void)
{
	static const struct { const char *file; guint passes; } files[] = {
		{ "demo.scenario", 13 },
		{ "test-routine.scenario", 40 },
	};

	for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *path = g_test_build_filename(G_TEST_DIST, "..", "..",
			"device-proto", "sim", "scenarios", files[i].file, NULL);
		g_autoptr(GError) error = NULL;
		g_autoptr(scenario) sc = scenario_load(path, &error);

		g_assert_no_error(error);
		g_assert_cmpuint(scenario_passes(sc), ==, files[i].passes);
	}
}

static void test_load_missing(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(scenario) sc = scenario_load("/nonexistent/x.scenario", &error);

	g_assert_null(sc);
	g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
	g_assert_nonnull(strstr(error->message, "/nonexistent/x.scenario"));
}

/* Every bad line: the message names the file and the line, and says what
 * is wrong. */
static const struct bad_case {
	const char *name;
	const char *text;
	int code;
	const char *message;
} bad_cases[] = {
	{ "unknown-keyword", "set angle=0\nrol dir=forward\n", SCENARIO_ERROR_KEYWORD,
	  "f.scenario:2: unknown keyword 'rol' (roll, back-and-forth, pause, set, wait, repeat, end)" },
	{ "unknown-key", "roll dir=forward angle=0 distance=20 speed=50 force=200 pressure=3\n",
	  SCENARIO_ERROR_KEY, "f.scenario:1: unknown key 'pressure' for roll" },
	{ "key-for-other-line", "pause ms=10 zone=chin\n", SCENARIO_ERROR_KEY,
	  "f.scenario:1: unknown key 'zone' for pause" },
	{ "repeated-key", "\n\nroll dir=forward dir=backward\n", SCENARIO_ERROR_KEY,
	  "f.scenario:3: dir= given twice" },
	{ "missing-key", "roll dir=forward angle=0 distance=20 force=200\n", SCENARIO_ERROR_KEY,
	  "f.scenario:1: roll needs speed= (on the line or in a set line)" },
	{ "not-key-value", "roll dir forward\n", SCENARIO_ERROR_SYNTAX,
	  "f.scenario:1: expected key=value after roll, got 'dir'" },
	{ "empty-value", "roll dir=\n", SCENARIO_ERROR_SYNTAX,
	  "f.scenario:1: expected key=value after roll, got 'dir='" },
	{ "bad-number", "pause ms=12x\n", SCENARIO_ERROR_NUMBER,
	  "f.scenario:1: ms: '12x' is not a number" },
	{ "negative-number", "pause ms=-5\n", SCENARIO_ERROR_NUMBER,
	  "f.scenario:1: ms: '-5' is not a number" },
	{ "bad-force", "set force=heavy\n", SCENARIO_ERROR_NUMBER,
	  "f.scenario:1: force: 'heavy' is not a number" },
	{ "bad-force-newtons", "set force=2..5N\n", SCENARIO_ERROR_NUMBER,
	  "f.scenario:1: force: '2..5N' is not a number" },
	{ "force-range", "set force=31N\n", SCENARIO_ERROR_RANGE,
	  "f.scenario:1: force must be between 0 and 30.0 N, not 31N" },
	{ "force-range-cn", "set force=3001\n", SCENARIO_ERROR_RANGE,
	  "f.scenario:1: force must be between 0 and 3000 cN, not 3001" },
	{ "angle-range", "set angle=180\n", SCENARIO_ERROR_RANGE,
	  "f.scenario:1: angle must be between 0 and 179 degrees, not 180" },
	{ "angle-word", "set angle=sideways\n", SCENARIO_ERROR_VALUE,
	  "f.scenario:1: angle must be a number of degrees (0..179) or vertical, diagonal or horizontal, not 'sideways'" },
	{ "distance-range", "set distance=0\n", SCENARIO_ERROR_RANGE,
	  "f.scenario:1: distance must be between 1 and 500 mm, not 0" },
	{ "speed-range", "set speed=501\n", SCENARIO_ERROR_RANGE,
	  "f.scenario:1: speed must be between 5 and 500 mm/s, not 501" },
	{ "huge-number", "pause ms=99999999999999999999999\n", SCENARIO_ERROR_RANGE,
	  "f.scenario:1: ms must be between 1 and 3600000 ms, not 99999999999999999999999" },
	{ "pause-zero", "pause ms=0\n", SCENARIO_ERROR_RANGE,
	  "f.scenario:1: ms must be between 1 and 3600000 ms, not 0" },
	{ "pause-missing", "pause\n", SCENARIO_ERROR_KEY, "f.scenario:1: pause needs ms=" },
	{ "unknown-zone", "set zone=eyelid\n", SCENARIO_ERROR_ZONE,
	  "f.scenario:1: unknown zone 'eyelid' (forehead, left-cheek, right-cheek, nose, chin, upper-lip, neck, decolletage, hands, scalp or none)" },
	{ "unknown-dir", "set dir=left\n", SCENARIO_ERROR_VALUE,
	  "f.scenario:1: dir must be forward or backward, not 'left'" },
	{ "lift-past-end", "roll dir=forward angle=0 distance=20 speed=50 force=200 lift_at=20\n",
	  SCENARIO_ERROR_RANGE, "f.scenario:1: lift_at=20 must be less than distance=20" },
	{ "hesitate-past-end",
	  "roll dir=forward angle=0 distance=20 speed=50 force=200 hesitate_at=25 hesitate_ms=100\n",
	  SCENARIO_ERROR_RANGE, "f.scenario:1: hesitate_at=25 must be less than distance=20" },
	{ "hesitate-no-ms", "roll dir=forward angle=0 distance=20 speed=50 force=200 hesitate_at=5\n",
	  SCENARIO_ERROR_KEY, "f.scenario:1: hesitate_at= needs hesitate_ms=" },
	{ "hesitate-no-at", "roll dir=forward angle=0 distance=20 speed=50 force=200 hesitate_ms=5\n",
	  SCENARIO_ERROR_KEY, "f.scenario:1: hesitate_ms= needs hesitate_at=" },
	{ "set-empty", "set\n", SCENARIO_ERROR_SYNTAX,
	  "f.scenario:1: set needs at least one key=value" },
	{ "wait-none", "wait zone=none\n", SCENARIO_ERROR_KEY,
	  "f.scenario:1: wait needs zone= (a zone, not none)" },
	{ "wait-missing", "wait\n", SCENARIO_ERROR_KEY,
	  "f.scenario:1: wait needs zone= (a zone, not none)" },
	{ "repeat-no-count", "repeat\n", SCENARIO_ERROR_SYNTAX,
	  "f.scenario:1: expected 'repeat COUNT'" },
	{ "repeat-bad-count", "repeat four\n", SCENARIO_ERROR_NUMBER,
	  "f.scenario:1: repeat count: 'four' is not a number" },
	{ "repeat-zero", "repeat 0\n", SCENARIO_ERROR_RANGE,
	  "f.scenario:1: repeat count must be between 1 and 10000, not 0" },
	{ "repeat-unclosed", "pause ms=5\nrepeat 2\npause ms=5\n", SCENARIO_ERROR_SYNTAX,
	  "f.scenario:2: 'repeat' without 'end'" },
	{ "end-alone", "pause ms=5\nend\n", SCENARIO_ERROR_SYNTAX,
	  "f.scenario:2: 'end' without 'repeat'" },
	{ "end-extra", "repeat 2\npause ms=5\nend now\n", SCENARIO_ERROR_SYNTAX,
	  "f.scenario:3: nothing may follow 'end'" },
	{ "nesting", "repeat 2\nrepeat 2\nrepeat 2\nrepeat 2\nrepeat 2\nrepeat 2\nrepeat 2\n"
	  "repeat 2\nrepeat 2\n", SCENARIO_ERROR_SYNTAX,
	  "f.scenario:9: repeat nested more than 8 deep" },
	{ "too-big", "repeat 10000\nrepeat 10000\npause ms=1\nend\nend\n", SCENARIO_ERROR_TOO_BIG,
	  "f.scenario:5: the repeat from line 1 makes more than 200000 strokes" },
	{ "empty", "# nothing\n\n", SCENARIO_ERROR_EMPTY,
	  "f.scenario: no roll, back-and-forth or pause line" },
	{ "only-wait", "wait zone=chin\n", SCENARIO_ERROR_EMPTY,
	  "f.scenario: no roll, back-and-forth or pause line" },
};

static void test_bad(gconstpointer data)
{
	const struct bad_case *c = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(scenario) sc = scenario_parse("f.scenario", c->text, &error);

	g_assert_null(sc);
	g_assert_error(error, SCENARIO_ERROR, c->code);
	g_assert_cmpstr(error->message, ==, c->message);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/scenario/roll-line", test_roll_line);
	g_test_add_func("/scenario/values", test_values);
	g_test_add_func("/scenario/repeat", test_repeat);
	g_test_add_func("/scenario/wait-parts", test_wait_parts);
	g_test_add_func("/scenario/zone-names", test_zone_names);
	g_test_add_func("/scenario/shipped-files", test_shipped_files);
	g_test_add_func("/scenario/load-missing", test_load_missing);
	for (guint i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
		g_autofree char *path = g_strdup_printf("/scenario/robustness/%s",
							bad_cases[i].name);

		g_test_add_data_func(path, &bad_cases[i], test_bad);
	}
	return g_test_run();
}
