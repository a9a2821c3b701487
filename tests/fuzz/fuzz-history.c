// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: HISTORY frames (PROTOCOL.md §5).  Every accepted record
 * is re-encoded; the new frame must decode to the same records, and at our
 * own minor (where the encoding is unique) to the same bytes.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_record_eq(const struct dp_record *a, const struct dp_record *b)
{
	check(a->type == b->type);
	switch (a->type) {
	case DP_REC_PASS:
		check(a->u.pass.seq == b->u.pass.seq);
		check(a->u.pass.start_ms == b->u.pass.start_ms);
		check(a->u.pass.duration_ms == b->u.pass.duration_ms);
		check(a->u.pass.distance_mm == b->u.pass.distance_mm);
		check(a->u.pass.direction == b->u.pass.direction);
		check(a->u.pass.angle_deg == b->u.pass.angle_deg);
		check(a->u.pass.mean_force_cn == b->u.pass.mean_force_cn);
		check(a->u.pass.peak_force_cn == b->u.pass.peak_force_cn);
		check(a->u.pass.over_warn_ms == b->u.pass.over_warn_ms);
		check(a->u.pass.session == b->u.pass.session);
		check(a->u.pass.zone == b->u.pass.zone);
		check(a->u.pass.flags == b->u.pass.flags);
		break;
	case DP_REC_LOG_END:
		check(a->u.log_end.first_seq == b->u.log_end.first_seq);
		check(a->u.log_end.next_seq == b->u.log_end.next_seq);
		check(a->u.log_end.sent == b->u.log_end.sent);
		break;
	default:
		/* FORCE and STATUS never come out of a HISTORY frame. */
		abort();
	}
}

static enum dp_err put(struct dp_writer *w, const struct dp_record *rec)
{
	switch (rec->type) {
	case DP_REC_PASS:
		return dp_put_pass(w, &rec->u.pass);
	case DP_REC_LOG_END:
		return dp_put_log_end(w, &rec->u.log_end);
	}
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[0xffff];
	struct dp_record_iter it, it2;
	struct dp_record rec, rec2;
	struct dp_writer w;
	size_t n, before;
	int r, r2;

	if (dp_history_decode(data, size, &it))
		return 0;

	/* Re-encode every record accepted before the end or the first error. */
	dp_history_begin(&w, out, sizeof(out));
	while ((r = dp_record_next(&it, &rec)) == 1) {
		before = w.len;
		check(put(&w, &rec) == DP_OK);
		check(w.len - before == dp_record_size(rec.type, NULL));
	}
	check(r == 0 ? it.err == DP_OK : r == -1 && it.err != DP_OK);
	check(dp_record_next(&it, &rec) == r);
	n = dp_frame_finish(&w);
	check(n >= DP_HEADER_SIZE && n <= size);
	if (r == 0 && it.minor == DP_PROTO_MINOR)
		check(n == size && !memcmp(out, data, size));

	/* Decode both again in step. */
	check(dp_history_decode(out, n, &it2) == DP_OK);
	dp_history_decode(data, size, &it);
	while ((r2 = dp_record_next(&it2, &rec2)) == 1) {
		check(dp_record_next(&it, &rec) == 1);
		check_record_eq(&rec, &rec2);
	}
	check(r2 == 0);
	check(dp_record_next(&it, &rec) == r);
	return 0;
}
