/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The offline log (PROTOCOL.md §11.4): a ring of pass records in "flash".
 * Sequence numbers start at 1 and are never reused; a record is freed only
 * when the host acks it, after committing it to its database.
 */
#include <stdint.h>

#include "dp/firmware.h"

void dp_log_init(struct dp_log *log, uint32_t next_seq)
{
	/* The ring itself needs no clearing: only [first_seq, next_seq) is read. */
	log->first_seq = next_seq ? next_seq : 1;
	log->next_seq = log->first_seq;
	log->dropped = 0;
}

size_t dp_log_count(const struct dp_log *log)
{
	return log->next_seq - log->first_seq;
}

bool dp_log_append(struct dp_log *log, struct dp_pass *pass)
{
	/* Full, or out of sequence numbers (which would mean reusing one). */
	if (dp_log_count(log) >= DP_LOG_CAPACITY || log->next_seq == UINT32_MAX) {
		if (log->dropped < UINT16_MAX)
			log->dropped++;
		return false;
	}

	pass->seq = log->next_seq++;
	log->rec[pass->seq % DP_LOG_CAPACITY] = *pass;
	return true;
}

const struct dp_pass *dp_log_get(const struct dp_log *log, uint32_t seq)
{
	if (seq < log->first_seq || seq >= log->next_seq)
		return NULL;
	return &log->rec[seq % DP_LOG_CAPACITY];
}

bool dp_log_ack(struct dp_log *log, uint32_t up_to)
{
	if (up_to >= log->next_seq)
		return false;
	/* Below first_seq: already freed, a no-op. */
	if (up_to >= log->first_seq)
		log->first_seq = up_to + 1;
	return true;
}
