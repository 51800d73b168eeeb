/* SPDX-License-Identifier: BSD-3-Clause */
/* placeholder: being written */
#include "unit/testutil.h"
static Suite *suite(void)
{
	return suite_create("crypto_sym");
}
TEST_MAIN(suite)
