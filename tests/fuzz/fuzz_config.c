/*
 * libFuzzer harness: the configuration parser (common/config.c).
 *
 * The input is a cairn.conf.  config_parse() takes the text itself
 * (libconfuse's cfg_parse_buf), so nothing is written to disk; it must be
 * NUL-terminated, so a copy with a NUL is made (an input with a NUL in it
 * is cut there, as config_read_text's callers would see it).  Whatever
 * parses is printed (cairnd -n) and freed.  Errors go to a callback that
 * drops them.  cert-path and key-path are not checked (check_files false),
 * so the fuzzer never opens files it names.  Also the value syntaxes
 * alone: sizes, durations, rates.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

static FILE *fuzz_devnull;

static void
fuzz_config_error(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cairn_config *cfg;
	char *text;
	uint64_t bytes;
	unsigned secs, count, period;

	if (fuzz_devnull == NULL) {
		log_init("fuzz_config", LOG_TO_STDERR, LOG_LEVEL_ERROR);
		if ((fuzz_devnull = fopen("/dev/null", "w")) == NULL)
			abort();
	}
	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	cfg = config_parse(text, "fuzz.conf", false, fuzz_config_error, NULL);
	if (cfg != NULL) {
		config_print(cfg, fuzz_devnull);
		(void)config_worker_pool(cfg);
		(void)config_tls_enabled(cfg);
		config_free(cfg);
	}
	(void)config_parse_size(text, &bytes);
	(void)config_parse_duration(text, &secs);
	(void)config_parse_rate(text, &count, &period);
	free(text);
	return 0;
}
