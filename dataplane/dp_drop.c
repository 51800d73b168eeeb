/* SPDX-License-Identifier: BSD-3-Clause */
#include "dp_drop.h"

const char *const dp_drop_names[DP_DROP_COUNT] = { [DP_OK] = "ok",
#define DP_DROP_NAME(name, str) [DP_DROP_##name] = str,
	                                           DP_DROP_REASONS(DP_DROP_NAME)
#undef DP_DROP_NAME
};
