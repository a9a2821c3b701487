/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A whole routine through the firmware (PROTOCOL.md §11): the sensor model
 * rolls device-proto/sim/scenarios/test-routine.scenario — three zones x
 * three directions x four passes, two strokes pressed too hard, one stroke
 * lifted mid-roll — into a connected, encrypted firmware whose host started
 * a session and moves it from zone to zone.  The STREAM frames it emits are
 * decoded with the codec, and the pass events must be exactly the planned
 * ones.
 */
#include <glib.h>
#include <string.h>

#include "dp/codec.h"
#include "dp/firmware.h"
#include "dp/model.h"
#include "scenario.h"

#define SEED 20240601
#define MAX_PASSES 64

enum angle_class { VERTICAL, DIAGONAL, HORIZONTAL, N_CLASSES };

/* The host's classification (§6): within 22.5 degrees of 0, 45 or 90
 * (orientation, so 135 counts as diagonal and 170 as vertical). */
static enum angle_class classify(guint angle)
{
	angle %= 180;
	if (angle < 23 || angle >= 158)
		return VERTICAL;
	if (angle >= 68 && angle < 113)
		return HORIZONTAL;
	return DIAGONAL;
}

struct expect {
	guint8 zone, direction, angle, end_flags;
	guint16 distance_mm, force_cn, speed_mm_s, extra_ms;
};

struct bench {
	struct dp_fw *fw;
	struct dp_model model;
	struct dp_model_config mcfg;

	/* What the host got */
	guint32 stream_seq;
	guint frames;
	guint force_samples;
	struct dp_pass passes[MAX_PASSES];
	guint n_passes;
	gboolean got_response;
	struct dp_response rsp;

	guint samples_fed;
	guint64 now;
};

static bool on_notify(void *user_data, enum dp_char chr, const uint8_t *buf, size_t len)
{
	struct bench *b = user_data;
	struct dp_stream_head head;
	struct dp_record_iter it;
	struct dp_record rec;
	int r;

	g_assert_cmpint(chr, ==, DP_CHAR_STREAM);
	g_assert_cmpint(dp_stream_decode(buf, len, &head, &it), ==, DP_OK);
	/* §11.5: +1 per frame from 1, no gap. */
	g_assert_cmpuint(head.seq, ==, b->stream_seq + 1);
	b->stream_seq = head.seq;
	b->frames++;
	g_assert_cmpuint(len, <=, 247 - 3);
	while ((r = dp_record_next(&it, &rec)) > 0) {
		switch (rec.type) {
		case DP_REC_FORCE:
			b->force_samples += rec.u.force.count;
			break;
		case DP_REC_PASS:
			g_assert_cmpuint(b->n_passes, <, MAX_PASSES);
			b->passes[b->n_passes++] = rec.u.pass;
			break;
		case DP_REC_STATUS:
			break;
		default:
			g_assert_not_reached();
		}
	}
	g_assert_cmpint(r, ==, 0);
	return true;
}

static bool on_indicate(void *user_data, enum dp_char chr, const uint8_t *buf, size_t len)
{
	struct bench *b = user_data;

	g_assert_cmpint(chr, ==, DP_CHAR_CONTROL);
	g_assert_false(b->got_response);
	g_assert_cmpint(dp_response_decode(buf, len, &b->rsp), ==, DP_OK);
	b->got_response = TRUE;
	return true;
}

static const struct dp_fw_ops ops = {
	.notify = on_notify,
	.indicate = on_indicate,
};

static struct dp_response command(struct bench *b, const struct dp_command *cmd)
{
	uint8_t buf[32];
	size_t len;

	g_assert_cmpint(dp_command_encode(cmd, buf, sizeof(buf), &len), ==, DP_OK);
	b->got_response = FALSE;
	g_assert_cmpuint(dp_fw_write(b->fw, DP_CHAR_CONTROL, buf, len), ==, DP_ATT_OK);
	g_assert_true(b->got_response);
	g_assert_cmpuint(b->rsp.opcode, ==, cmd->opcode);
	dp_fw_confirm(b->fw);
	return b->rsp;
}

static void feed(struct bench *b, const struct dp_sample *s)
{
	dp_fw_sample(b->fw, s);
	dp_fw_tick(b->fw, s->t_ms);
	b->samples_fed++;
	b->now = s->t_ms;
}

static void roll(struct bench *b, const struct dp_stroke *plan, gsize n)
{
	struct dp_sample s;

	dp_model_load(&b->model, plan, n);
	while (dp_model_next(&b->model, &s))
		feed(b, &s);
}

static void rest(struct bench *b, guint ms)
{
	struct dp_sample s;

	for (guint i = 0; i < ms / b->mcfg.period_ms; i++) {
		dp_model_step(&b->model, &s);
		feed(b, &s);
	}
}

/* The passes a stroke should give, in order. */
static guint expect_stroke(const struct dp_stroke *s, guint8 zone, struct expect *out)
{
	struct expect e = {
		.zone = zone, .direction = s->direction, .angle = s->angle_deg,
		.distance_mm = s->distance_mm, .force_cn = s->force_cn,
		.speed_mm_s = s->speed_mm_s, .end_flags = DP_PASS_END_LIFT,
	};

	g_assert_cmpuint(s->kind, !=, DP_STROKE_BACK_AND_FORTH);
	if (s->kind == DP_STROKE_PAUSE)
		return 0;
	if (s->hesitate_at_mm)
		e.extra_ms = s->hesitate_ms;
	if (s->lift_at_mm) {
		out[0] = e;
		out[0].distance_mm = s->lift_at_mm;
		out[1] = e;
		out[1].distance_mm = s->distance_mm - s->lift_at_mm;
		return 2;
	}
	out[0] = e;
	return 1;
}

static void check_pass(const struct dp_pass *p, const struct expect *e, guint32 seq,
		       guint16 session, guint period_ms, guint noise_cn)
{
	guint expect_ms = (e->distance_mm * 1000u + e->speed_mm_s / 2) / e->speed_mm_s +
			  e->extra_ms;
	gint dangle = (gint)p->angle_deg - e->angle;

	g_test_message("pass %u: zone %u dir %u angle %u %u mm %u ms mean %u peak %u over %u",
		       p->seq, p->zone, p->direction, p->angle_deg, p->distance_mm,
		       p->duration_ms, p->mean_force_cn, p->peak_force_cn, p->over_warn_ms);
	g_assert_cmpuint(p->seq, ==, seq);
	g_assert_cmpuint(p->session, ==, session);
	g_assert_cmpuint(p->zone, ==, e->zone);
	g_assert_cmpuint(p->direction, ==, e->direction);
	g_assert_cmpuint(classify(p->angle_deg), ==, classify(e->angle));
	if (dangle > 90)
		dangle -= 180;
	if (dangle < -90)
		dangle += 180;
	/* The mean of >= 60 samples of +-3 degree noise. */
	g_assert_cmpint(ABS(dangle), <=, 1);
	/* The drum's travel is exact: whole ticks, no slip. */
	g_assert_cmpuint(p->distance_mm, ==, e->distance_mm);
	/* Rolling time, to the sample. */
	g_assert_cmpint(ABS((gint)p->duration_ms - (gint)expect_ms), <=, (gint)period_ms);
	/* Mean force: the detector averages the rolling samples only (the
	 * set-down and lift ramps happen with the drum still, outside the
	 * pass), so the mean is the planned force plus the mean of uniform
	 * +-8 cN noise over >= 60 samples: its standard deviation is under
	 * 0.6 cN, and 3 cN is over five of them. */
	g_assert_cmpint(ABS((gint)p->mean_force_cn - (gint)e->force_cn), <=, 3);
	/* Peak: the planned force plus at most the noise amplitude. */
	g_assert_cmpuint(p->peak_force_cn, >=, e->force_cn);
	g_assert_cmpuint(p->peak_force_cn, <=, e->force_cn + noise_cn);
	/* Time over the 5 N warning band: the whole pass when pressed too
	 * hard, none otherwise. */
	if (e->force_cn > 500) {
		g_assert_cmpuint(p->over_warn_ms, >, 0);
		g_assert_cmpint(ABS((gint)p->over_warn_ms - (gint)p->duration_ms), <=,
				(gint)period_ms);
	} else {
		g_assert_cmpuint(p->over_warn_ms, ==, 0);
	}
	g_assert_cmpuint(p->flags, ==, e->end_flags | DP_PASS_CLOCK_UNSET);
}

static void test_routine(void)
{
	g_autofree char *path = g_test_build_filename(G_TEST_DIST, "..", "..", "device-proto",
						     "sim", "scenarios",
						     "test-routine.scenario", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(scenario) sc = scenario_load(path, &error);
	g_autofree struct bench *b = g_new0(struct bench, 1);
	g_autofree struct dp_fw *fw = g_new0(struct dp_fw, 1);
	struct dp_fw_config cfg;
	struct expect expect[MAX_PASSES];
	guint n_expect = 0;
	guint16 session = 0;
	/* [zone][class][direction - 1], fixed for test-routine.scenario. */
	guint counts[DP_ZONE_MAX + 1][N_CLASSES][2] = { 0 };
	guint over_warn = 0, lift_split = 0;
	struct dp_response rsp;
	struct dp_command cmd;

	g_assert_no_error(error);
	b->fw = fw;
	dp_fw_config_default(&cfg);
	dp_fw_init(fw, &cfg, &ops, b);
	dp_model_config_default(&b->mcfg);
	b->mcfg.seed = SEED;
	b->mcfg.period_ms = cfg.force_period_ms;
	b->mcfg.ticks_per_10mm = cfg.detect.ticks_per_10mm;
	dp_model_init(&b->model, &b->mcfg, NULL, 0, 0);

	dp_fw_connect(fw, true, 247);
	g_assert_cmpuint(dp_fw_subscribe(fw, DP_CHAR_CONTROL, 2), ==, DP_ATT_OK);
	g_assert_cmpuint(dp_fw_subscribe(fw, DP_CHAR_STREAM, 1), ==, DP_ATT_OK);
	b->samples_fed = 0;
	rest(b, 200);

	for (guint i = 0; i < sc->parts->len; i++) {
		const struct scenario_part *part =
			&g_array_index(sc->parts, struct scenario_part, i);
		const struct dp_stroke *strokes =
			&g_array_index(sc->strokes, struct dp_stroke, part->first);

		g_assert_cmpuint(part->wait_zone, !=, DP_ZONE_NONE);
		cmd.opcode = session ? DP_OP_SET_ZONE : DP_OP_START_SESSION;
		cmd.u.zone = part->wait_zone;
		rsp = command(b, &cmd);
		g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
		if (!session) {
			session = rsp.u.start.session;
			g_assert_cmpuint(session, ==, 1);
		}
		for (guint j = 0; j < part->count; j++)
			n_expect += expect_stroke(&strokes[j], part->wait_zone, &expect[n_expect]);
		roll(b, strokes, part->count);
		rest(b, 500);
	}

	cmd.opcode = DP_OP_STOP_SESSION;
	rsp = command(b, &cmd);
	g_assert_cmpuint(rsp.result, ==, DP_RES_OK);
	g_assert_cmpuint(rsp.u.stop.session, ==, session);
	g_assert_cmpuint(rsp.u.stop.passes, ==, 40);
	rest(b, 1500);
	/* The last batch goes out at its time even with no new sample. */
	dp_fw_tick(fw, b->now + cfg.batch_ms);

	/* Exactly the planned passes, in order, seq 1..N. */
	g_assert_cmpuint(n_expect, ==, 40);
	g_assert_cmpuint(b->n_passes, ==, n_expect);
	for (guint i = 0; i < b->n_passes; i++) {
		const struct dp_pass *p = &b->passes[i];

		check_pass(p, &expect[i], i + 1, session, b->mcfg.period_ms,
			   b->mcfg.force_noise_cn);
		counts[p->zone][classify(p->angle_deg)][p->direction - 1]++;
		over_warn += p->over_warn_ms > 0;
		if (i > 0 && p->distance_mm + b->passes[i - 1].distance_mm == 40 &&
		    p->distance_mm == 22 && b->passes[i - 1].distance_mm == 18)
			lift_split++;
	}
	g_assert_cmpuint(over_warn, ==, 2);
	g_assert_cmpuint(lift_split, ==, 1);

	/* The counts the routine file promises, zone by zone. */
	{
		static const struct {
			guint8 zone;
			guint c[N_CLASSES][2];
		} want[] = {
			{ DP_ZONE_FOREHEAD, { [VERTICAL] = { 2, 2 }, [DIAGONAL] = { 3, 2 },
					      [HORIZONTAL] = { 2, 2 } } },
			{ DP_ZONE_LEFT_CHEEK, { [VERTICAL] = { 0, 4 }, [DIAGONAL] = { 2, 2 },
						[HORIZONTAL] = { 4, 2 } } },
			{ DP_ZONE_NOSE, { [VERTICAL] = { 3, 2 }, [DIAGONAL] = { 2, 2 },
					  [HORIZONTAL] = { 4, 0 } } },
		};
		guint total = 0;

		for (guint z = 0; z < G_N_ELEMENTS(want); z++) {
			for (guint c = 0; c < N_CLASSES; c++) {
				for (guint d = 0; d < 2; d++) {
					g_assert_cmpuint(counts[want[z].zone][c][d], ==, want[z].c[c][d]);
					total += want[z].c[c][d];
				}
			}
		}
		g_assert_cmpuint(total, ==, b->n_passes);
	}

	/* The stream carried every force sample fed while subscribed, in
	 * frames numbered 1..N with no gap (checked per frame above). */
	g_assert_cmpuint(b->frames, ==, b->stream_seq);
	g_assert_cmpuint(b->force_samples, ==, b->samples_fed);
	/* The passes are in the offline log too, unacked. */
	g_assert_cmpuint(dp_log_count(&fw->log), ==, 40);
	for (guint i = 0; i < b->n_passes; i++)
		g_assert_cmpmem(dp_log_get(&fw->log, i + 1), sizeof(struct dp_pass),
				&b->passes[i], sizeof(struct dp_pass));
}

/* Same seed, same stream; another seed, other noise but the same passes. */
static guint32 run_digest(guint64 seed, guint *n_passes)
{
	g_autofree struct bench *b = g_new0(struct bench, 1);
	g_autofree struct dp_fw *fw = g_new0(struct dp_fw, 1);
	struct dp_fw_config cfg;
	struct dp_stroke plan[8];
	struct dp_command cmd = { .opcode = DP_OP_START_SESSION, .u.zone = DP_ZONE_CHIN };
	guint32 h = 2166136261u;

	for (guint i = 0; i < G_N_ELEMENTS(plan); i++) {
		plan[i] = (struct dp_stroke) {
			.kind = DP_STROKE_ROLL, .direction = 1 + i % 2, .angle_deg = 45,
			.distance_mm = 25, .speed_mm_s = 50, .force_cn = 200 + 10 * i,
		};
	}
	b->fw = fw;
	dp_fw_config_default(&cfg);
	dp_fw_init(fw, &cfg, &ops, b);
	dp_model_config_default(&b->mcfg);
	b->mcfg.seed = seed;
	dp_model_init(&b->model, &b->mcfg, NULL, 0, 0);
	dp_fw_connect(fw, true, 247);
	dp_fw_subscribe(fw, DP_CHAR_CONTROL, 2);
	dp_fw_subscribe(fw, DP_CHAR_STREAM, 1);
	g_assert_cmpuint(command(b, &cmd).result, ==, DP_RES_OK);
	roll(b, plan, G_N_ELEMENTS(plan));
	rest(b, 500);
	for (guint i = 0; i < b->n_passes; i++) {
		const guint8 *p = (const guint8 *)&b->passes[i].mean_force_cn;

		for (guint k = 0; k < 4; k++)
			h = (h ^ p[k]) * 16777619u;
	}
	*n_passes = b->n_passes;
	return h;
}

static void test_seeds(void)
{
	guint n1, n2, n3;
	guint32 a = run_digest(1, &n1), b = run_digest(1, &n2), c = run_digest(2, &n3);

	g_assert_cmpuint(n1, ==, 8);
	g_assert_cmpuint(n2, ==, 8);
	g_assert_cmpuint(n3, ==, 8);
	g_assert_cmpuint(a, ==, b);
	g_assert_cmpuint(a, !=, c);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/routine/three-zones", test_routine);
	g_test_add_func("/routine/seeds", test_seeds);
	return g_test_run();
}
