// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: the roller's flash image (dp/flash.h).  Loading never
 * reads outside the input; check and load agree; a refused image leaves the
 * roller as it was; an accepted one saves back to exactly the same bytes
 * (the format has one encoding per state), and the roller goes on logging
 * from its next seq.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp/flash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static const struct dp_fw_ops no_ops;
/* The firmware holds its whole log: too big for the stack. */
static struct dp_fw fw;
static uint8_t before[DP_FLASH_MAX_SIZE], after[DP_FLASH_MAX_SIZE];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_fw_config cfg;
	enum dp_flash_err err;
	struct dp_pass p;
	size_t n0 = 0, n1 = 0;
	uint32_t next;

	dp_fw_config_default(&cfg);
	dp_fw_init(&fw, &cfg, &no_ops, NULL);
	check(dp_fw_flash_save(&fw, before, sizeof(before), &n0) == DP_FLASH_OK);

	err = dp_fw_flash_load(&fw, data, size);
	check(err == dp_flash_check(data, size));
	check(err < DP_FLASH_ERR_COUNT_ && err != DP_FLASH_NO_SPACE);
	if (err != DP_FLASH_OK) {
		check(dp_fw_flash_save(&fw, after, sizeof(after), &n1) == DP_FLASH_OK);
		check(n0 == n1 && !memcmp(before, after, n0));
		return 0;
	}
	check(size >= DP_FLASH_MIN_SIZE && size <= DP_FLASH_MAX_SIZE);
	check(dp_fw_flash_size(&fw) == size);
	check(dp_fw_flash_save(&fw, after, sizeof(after), &n1) == DP_FLASH_OK);
	check(n1 == size && !memcmp(after, data, size));
	check(fw.log.first_seq >= 1 && fw.log.first_seq <= fw.log.next_seq);
	check(dp_log_count(&fw.log) <= DP_LOG_CAPACITY);
	check(strlen(fw.serial) >= 1 && strlen(fw.head_serial) >= 1);
	check(fw.cfg.needle_um >= 1 && fw.cfg.needle_um <= 3000);

	/* §11.4: the next pass gets next_seq, never an old one. */
	memset(&p, 0, sizeof(p));
	p.direction = DP_DIR_FORWARD;
	next = fw.log.next_seq;
	if (dp_log_append(&fw.log, &p))
		check(p.seq == next && dp_log_get(&fw.log, next) != NULL);
	else
		check(dp_log_count(&fw.log) == DP_LOG_CAPACITY || next == UINT32_MAX);
	return 0;
}
