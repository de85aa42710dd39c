/* Assertions shared by the cmocka unit tests. Include after <cmocka.h>. */
#ifndef PM_UNIT_ASSERTS_H
#define PM_UNIT_ASSERTS_H

/* v is NULL-terminated and holds exactly the strings of want. */
static inline void
assert_strv(char **v, const char *const *want)
{
	size_t i;

	assert_non_null(v);
	for (i = 0; want[i] != NULL; i++) {
		assert_non_null(v[i]);
		assert_string_equal(v[i], want[i]);
	}
	assert_null(v[i]);
}

#endif
