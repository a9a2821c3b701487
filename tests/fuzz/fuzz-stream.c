// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: STREAM frames (PROTOCOL.md §5).  Every accepted record
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
	case DP_REC_FORCE:
		check(a->u.force.period_ms == b->u.force.period_ms);
		check(a->u.force.count == b->u.force.count);
		check(!memcmp(a->u.force.cn, b->u.force.cn, sizeof(a->u.force.cn)));
		break;
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
	case DP_REC_STATUS:
		check(a->u.status.state == b->u.status.state);
		check(a->u.status.battery_pct == b->u.status.battery_pct);
		check(a->u.status.flags == b->u.status.flags);
		check(a->u.status.log_count == b->u.status.log_count);
		check(a->u.status.log_first_seq == b->u.status.log_first_seq);
		check(a->u.status.log_next_seq == b->u.status.log_next_seq);
		check(a->u.status.log_dropped == b->u.status.log_dropped);
		check(a->u.status.session == b->u.status.session);
		check(a->u.status.zone == b->u.status.zone);
		break;
	default:
		/* LOG_END never comes out of a STREAM frame. */
		abort();
	}
}

static enum dp_err put(struct dp_writer *w, const struct dp_record *rec)
{
	switch (rec->type) {
	case DP_REC_FORCE:
		return dp_put_force(w, &rec->u.force);
	case DP_REC_PASS:
		return dp_put_pass(w, &rec->u.pass);
	case DP_REC_STATUS:
		return dp_put_status(w, &rec->u.status);
	}
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[0xffff];
	struct dp_stream_head head, head2;
	struct dp_record_iter it, it2;
	struct dp_record rec, rec2;
	struct dp_writer w;
	size_t n, before;
	int r, r2;

	if (dp_stream_decode(data, size, &head, &it))
		return 0;

	/* Re-encode every record accepted before the end or the first error. */
	dp_stream_begin(&w, out, sizeof(out), &head);
	while ((r = dp_record_next(&it, &rec)) == 1) {
		before = w.len;
		check(put(&w, &rec) == DP_OK);
		check(w.len - before == dp_record_size(rec.type, &rec.u.force));
	}
	check(r == 0 ? it.err == DP_OK : r == -1 && it.err != DP_OK);
	check(dp_record_next(&it, &rec) == r);
	n = dp_frame_finish(&w);
	check(n >= DP_STREAM_HEAD_SIZE && n <= size);
	if (r == 0 && it.minor == DP_PROTO_MINOR)
		check(n == size && !memcmp(out, data, size));

	/* Decode both again in step. */
	check(dp_stream_decode(out, n, &head2, &it2) == DP_OK);
	check(head2.seq == head.seq && head2.time_ms == head.time_ms);
	dp_stream_decode(data, size, &head, &it);
	while ((r2 = dp_record_next(&it2, &rec2)) == 1) {
		check(dp_record_next(&it, &rec) == 1);
		check_record_eq(&rec, &rec2);
	}
	check(r2 == 0);
	check(dp_record_next(&it, &rec) == r);
	return 0;
}
