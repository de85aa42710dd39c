#include "config.h"

#include "jsonerr.h"

const char *
jsonerr_reason(const json_error_t *e)
{
	switch (json_error_code(e)) {
	case json_error_out_of_memory:
		return "out of memory";
	case json_error_stack_overflow:
		return "nested too deeply";
	case json_error_invalid_utf8:
		return "not valid UTF-8";
	case json_error_premature_end_of_input:
		return "unexpected end of input";
	case json_error_end_of_input_expected:
		return "text after the JSON value";
	case json_error_null_character:
		return "a NUL character";
	case json_error_null_byte_in_key:
		return "a NUL character in a key";
	case json_error_duplicate_key:
		return "a duplicate key";
	case json_error_numeric_overflow:
		return "a number out of range";
	default:
		return "syntax error";
	}
}
